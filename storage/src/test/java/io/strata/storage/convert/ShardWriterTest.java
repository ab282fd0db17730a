package io.strata.storage.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.strata.core.model.Layout;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShardWriterTest {
    @TempDir
    Path tmp;

    static SliceSpec whole(long rows, long cols, int es) {
        return new SliceSpec("t", rows, cols, 0, rows, 0, cols, false, List.of(rows, cols), List.of(rows, cols),
                Layout.ROW, null, 0, 1, es);
    }

    @Test
    void paddingAndPositionsAreExact() throws Exception {
        byte[] a = new byte[100];
        new Random(1).nextBytes(a);
        Path f = tmp.resolve("s");
        try (ShardWriter w = new ShardWriter();
             FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            w.begin(ch);
            w.write(MemorySegment.ofArray(a), whole(10, 10, 1));
            w.padTo(4096);
            assertEquals(4096, w.position());
            w.write(MemorySegment.ofArray(a), whole(10, 10, 1));
            w.flush();
            assertThrows(IllegalStateException.class, () -> w.padTo(10));
        }
        byte[] out = Files.readAllBytes(f);
        assertEquals(4196, out.length);
        byte[] expected = new byte[4196];
        System.arraycopy(a, 0, expected, 0, 100);
        System.arraycopy(a, 0, expected, 4096, 100);
        assertArrayEquals(expected, out);
    }

    /** A full disk surfaces as an IOException from the write (the converter adds shard and tensor names). */
    @Test
    void diskFullIsAnIOException() throws Exception {
        Path full = Path.of("/dev/full");
        assumeTrue(Files.isWritable(full), "/dev/full not available");
        byte[] big = new byte[3 << 20];
        try (ShardWriter w = new ShardWriter();
             FileChannel ch = FileChannel.open(full, StandardOpenOption.WRITE)) {
            w.begin(ch);
            IOException e = assertThrows(IOException.class, () -> {
                w.write(MemorySegment.ofArray(big), whole(3, 1 << 20, 1));
                w.flush();
            });
            assertTrue(e.getMessage().contains("No space left"), e.getMessage());
        }
    }
}
