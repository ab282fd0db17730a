package io.strata.loader.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.core.hash.Blake3;
import io.strata.core.manifest.GroupInfo;
import io.strata.core.manifest.Manifest;
import io.strata.core.manifest.ManifestCodec;
import io.strata.core.manifest.TensorInfo;
import io.strata.core.model.Layout;
import io.strata.core.model.Tier;
import io.strata.core.telemetry.TelemetrySnapshot;
import io.strata.loader.cache.ExpertHandle;
import io.strata.loader.disk.DiskCache;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Data used without verification (issue 11): bytes flipped in the model directory or in the disk cache must never
 * reach compute. The model's chunks are checked on first read (dense tensors at load, experts at first page-in);
 * a damaged disk-cache blob is deleted, counted, logged once and fetched again from the model.
 */
class LocalCorruptionTest {
    static final int EXPERTS = 4;

    @TempDir
    Path tmp;

    private static void flip(Path file, long at) throws Exception {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(at);
            int b = f.read();
            f.seek(at);
            f.write(b ^ 0xff);
        }
    }

    private static RuntimeOptions.Builder options() {
        return RuntimeOptions.builder().noDiskCache().hostBudget(64 << 20).prefetch(false);
    }

    @Test
    void flippedBytesInADenseShardFailTheLoadInsteadOfNaNLogits() throws Exception {
        TestModels.Model m = TestModels.mixtral(tmp, 1, EXPERTS, 64, 96, Layout.ROW, 1);
        Manifest man = ManifestCodec.read(m.converted());
        String name = "lm_head.weight";
        TensorInfo t = man.tensor(name);
        Path shard = m.converted().resolve(man.shard(t.shard()).filename());
        flip(shard, t.offset() + t.size() / 2);
        try (ModelRuntime rt = ModelRuntime.open(m.converted(), options().build())) {
            RuntimeException e = assertThrows(RuntimeException.class, () -> rt.dense(name));
            assertTrue(e.getMessage().contains(name) && e.getMessage().contains(shard.getFileName().toString())
                    && e.getMessage().contains("does not match its BLAKE3"), e.getMessage());
        }
        try (ModelRuntime rt = ModelRuntime.open(m.converted(), options().trustLocal(true).build())) {
            assertEquals(t.size(), rt.dense(name).data().byteSize(), "--trust-local loads without the check");
        }
    }

    @Test
    void aFlipInALaterPieceOfALargeExpertFailsItsPageInInEveryReadMode() throws Exception {
        // 6 MiB experts: read as several pieces in flight, hashed piece by piece in order
        TestModels.Model m = TestModels.mixtral(tmp, 1, 2, 512, 1024, Layout.ROW, 1);
        Manifest man = ManifestCodec.read(m.converted());
        GroupInfo g = man.groups().get("expert.0.1");
        assertTrue(g.size() > 2 * io.strata.loader.source.LocalReads.PIECE, "expert spans several pieces");
        Path shard = m.converted().resolve(man.shard(g.shard()).filename());
        flip(shard, g.offset() + g.size() - 5000); // in the last piece, inside its unaligned tail page
        for (io.strata.loader.runtime.ReadMode mode : io.strata.loader.runtime.ReadMode.values()) {
            try (ModelRuntime rt = ModelRuntime.open(m.converted(), options().readMode(mode).build())) {
                try (var h = rt.expert(0, 0)) { // an undamaged one pages in, bytes as the model has them
                    GroupInfo g0 = man.groups().get("expert.0.0");
                    byte[] want = new byte[(int) g0.size()];
                    try (var f = new RandomAccessFile(m.converted().resolve(man.shard(g0.shard()).filename())
                            .toFile(), "r")) {
                        f.seek(g0.offset());
                        f.readFully(want);
                    }
                    assertArrayEquals(want, h.bytes().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), mode.toString());
                }
                RuntimeException e = assertThrows(RuntimeException.class, () -> rt.expert(0, 1).close());
                assertTrue(chain(e).contains(shard.getFileName().toString()) && chain(e).contains("chunk"),
                        mode + ": " + chain(e));
            }
        }
    }

    @Test
    void flippedBytesInAnExpertFailItsFirstPageIn() throws Exception {
        TestModels.Model m = TestModels.mixtral(tmp, 1, EXPERTS, 64, 96, Layout.ROW, 1);
        Manifest man = ManifestCodec.read(m.converted());
        GroupInfo g = man.groups().get("expert.0.2");
        Path shard = m.converted().resolve(man.shard(g.shard()).filename());
        flip(shard, g.offset() + 7);
        try (ModelRuntime rt = ModelRuntime.open(m.converted(), options().build())) {
            rt.expert(0, 1).close(); // an undamaged expert still pages in
            RuntimeException e = assertThrows(RuntimeException.class, () -> rt.expert(0, 2).close());
            assertTrue(chain(e).contains(shard.getFileName().toString()) && chain(e).contains("chunk"), chain(e));
        }
    }

    @Test
    void aFlippedDiskCacheBlobIsDeletedCountedLoggedOnceAndFetchedAgainFromTheModel() throws Exception {
        TestModels.Model m = TestModels.mixtral(tmp, 1, EXPERTS, 64, 96, Layout.ROW, 1);
        Path cache = tmp.resolve("cache");
        RuntimeOptions o = RuntimeOptions.builder().cacheDir(cache).cacheLocal(true).diskBudget(64 << 20).hostBudget(64 << 20)
                .prefetch(false).build();
        try (ModelRuntime rt = ModelRuntime.open(m.converted(), o)) {
            for (int e = 0; e < EXPERTS; e++) {
                rt.expert(0, e).close();
            }
        }
        Manifest man = ManifestCodec.read(m.converted());
        List<String> damaged = List.of(man.groups().get("expert.0.1").hash(), man.groups().get("expert.0.3").hash());
        for (String h : damaged) {
            flip(cache.resolve("blobs").resolve(h.substring(0, 2)).resolve(h), 100);
        }
        List<LogRecord> warnings = new ArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord r) {
                if (r.getLevel().intValue() >= Level.WARNING.intValue()) {
                    warnings.add(r);
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger log = Logger.getLogger(DiskCache.class.getName());
        log.addHandler(capture);
        try (ModelRuntime rt = ModelRuntime.open(m.converted(), o)) {
            for (int e = 0; e < EXPERTS; e++) {
                try (ExpertHandle h = rt.expert(0, e)) {
                    assertEquals(man.groups().get("expert.0." + e).hash(), Blake3.hashHex(h.bytes()),
                            "expert " + e + " handed to compute is the manifest's bytes");
                }
            }
            TelemetrySnapshot t = rt.telemetry();
            assertEquals(2, t.tier(Tier.DISK).hits(), "the two intact blobs served");
            assertEquals(2, t.tier(Tier.ORIGIN).hits(), "the two damaged ones fetched again from the model");
        } finally {
            log.removeHandler(capture);
        }
        assertEquals(1, warnings.size(), "one warning for two damaged blobs: " + warnings.stream()
                .map(LogRecord::getMessage).toList());
        assertTrue(warnings.getFirst().getMessage().contains("does not match its BLAKE3"));
        for (String h : damaged) {
            Path blob = cache.resolve("blobs").resolve(h.substring(0, 2)).resolve(h);
            assertTrue(Files.exists(blob), "re-imported");
            assertEquals(h, Blake3.hashHex(Files.readAllBytes(blob)), "the re-imported blob is intact");
        }
    }

    @Test
    void theDiskCacheCountsDamagedBlobs() throws Exception {
        TestModels.Model m = TestModels.mixtral(tmp, 1, EXPERTS, 64, 96, Layout.ROW, 1);
        Path cache = tmp.resolve("cache");
        Manifest man = ManifestCodec.read(m.converted());
        String h = man.groups().get("expert.0.0").hash();
        try (ModelRuntime rt = ModelRuntime.open(m.converted(), RuntimeOptions.builder().cacheDir(cache).cacheLocal(true)
                .hostBudget(64 << 20).prefetch(false).build())) {
            rt.expert(0, 0).close();
        }
        Path blob = cache.resolve("blobs").resolve(h.substring(0, 2)).resolve(h);
        flip(blob, 0);
        try (DiskCache dc = new DiskCache(cache, 64 << 20, new io.strata.core.telemetry.TierCounters(Tier.DISK));
             var arena = java.lang.foreign.Arena.ofConfined()) {
            assertFalse(dc.read(h, arena.allocate(man.groups().get("expert.0.0").size())));
            assertEquals(1, dc.corruptBlobs());
            assertFalse(dc.contains(h));
            assertFalse(Files.exists(blob), "deleted");
        }
        try (Stream<Path> left = Files.walk(cache.resolve("blobs"))) {
            assertTrue(left.noneMatch(p -> p.getFileName().toString().equals(h)));
        }
    }

    static String chain(Throwable e) {
        StringBuilder sb = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            sb.append(t.getMessage()).append(" | ");
        }
        return sb.toString();
    }
}
