package io.strata.loader.disk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.core.hash.Blake3;
import io.strata.core.memory.BudgetExceededException;
import io.strata.core.model.Tier;
import io.strata.core.telemetry.TierCounters;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DiskCacheTest {
    @TempDir
    Path dir;

    static byte[] blob(int seed, int size) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    static long files(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).count();
        }
    }

    @Test
    void storesVerifiedBlobsAndReadsThemBack() throws Exception {
        TierCounters c = new TierCounters(Tier.DISK);
        byte[] a = blob(1, 10_000);
        String h = Blake3.hashHex(a);
        try (DiskCache cache = new DiskCache(dir, 1 << 20, c); Arena arena = Arena.ofConfined()) {
            MemorySegment dst = arena.allocate(a.length);
            assertFalse(cache.read(h, dst));
            cache.put(h, MemorySegment.ofArray(a));
            assertTrue(cache.read(h, dst));
            assertEquals(-1, dst.mismatch(MemorySegment.ofArray(a)));
            assertEquals(a.length, cache.usedBytes());
            IOException bad = assertThrows(IOException.class,
                    () -> cache.put(Blake3.hashHex(blob(2, 10)), MemorySegment.ofArray(a)));
            assertTrue(bad.getMessage().contains("corrupt"), bad.getMessage());
            assertEquals(1, files(dir), "a rejected blob leaves no file, not even a temp file");
        }
        assertEquals(1, c.snapshot(0, 0, 0).hits());
        assertEquals(1, c.snapshot(0, 0, 0).misses());
    }

    @Test
    void evictsLeastRecentlyUsedBlobsToStayWithinItsBudget() throws Exception {
        TierCounters c = new TierCounters(Tier.DISK);
        try (DiskCache cache = new DiskCache(dir, 25_000, c); Arena arena = Arena.ofConfined()) {
            String[] h = new String[4];
            for (int i = 0; i < 4; i++) {
                byte[] b = blob(i, 10_000);
                h[i] = Blake3.hashHex(b);
                if (i == 2) {
                    assertTrue(cache.read(h[0], arena.allocate(10_000))); // 0 becomes more recent than 1
                }
                cache.put(h[i], MemorySegment.ofArray(b));
                assertTrue(cache.usedBytes() <= 25_000);
            }
            assertTrue(cache.contains(h[3]));
            assertFalse(cache.contains(h[1]), "least recently used goes first");
            assertEquals(2, files(dir));
            assertTrue(cache.ledger().highWater() <= 25_000);
            assertThrows(BudgetExceededException.class, () -> cache.put(Blake3.hashHex(blob(9, 30_000)),
                    MemorySegment.ofArray(blob(9, 30_000))));
        }
    }

    @Test
    void persistsAcrossInstancesAndCleansUpInterruptedWrites() throws Exception {
        byte[] a = blob(5, 4096);
        String h = Blake3.hashHex(a);
        try (DiskCache cache = new DiskCache(dir, 1 << 20, new TierCounters(Tier.DISK))) {
            cache.put(h, MemorySegment.ofArray(a));
        }
        Path stray = dir.resolve("blobs").resolve(h.substring(0, 2)).resolve("deadbeef123.tmp");
        Files.write(stray, new byte[100]);
        try (DiskCache cache = new DiskCache(dir, 1 << 20, new TierCounters(Tier.DISK));
             Arena arena = Arena.ofConfined()) {
            assertFalse(Files.exists(stray));
            MemorySegment dst = arena.allocate(a.length);
            assertTrue(cache.read(h, dst));
            assertEquals(-1, dst.mismatch(MemorySegment.ofArray(a)));
            assertEquals(a.length, cache.usedBytes());
        }
        try (DiskCache small = new DiskCache(dir, 1000, new TierCounters(Tier.DISK))) {
            assertFalse(small.contains(h), "a lowered budget drops what no longer fits");
            assertEquals(0, files(dir));
        }
    }
}
