package io.strata.core.hash;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Per-piece hashes (the manifest's per-1MiB-chunk hashes): each must be the plain hash of its own bytes. */
class ChunkHashesTest {

    @Test
    void eachPieceOfAMappedFileIsItsOwnPlainHash(@TempDir Path dir) throws IOException {
        byte[] data = Oracle.random((5 << 20) + 12_345, 21);
        Path file = dir.resolve("shard.bin");
        Files.write(file, data);
        long piece = 1 << 20;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ); Arena arena = Arena.ofShared()) {
            MemorySegment mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            for (ParallelBlake3 e : new ParallelBlake3[]{new ParallelBlake3(1), new ParallelBlake3(3)}) {
                try (e) {
                    byte[][] hashes = e.chunkHashes(mapped, piece);
                    assertEquals(6, hashes.length);
                    for (int i = 0; i < hashes.length; i++) {
                        int off = (int) (i * piece);
                        int len = (int) Math.min(piece, data.length - off);
                        assertArrayEquals(Oracle.hash(data, off, len), hashes[i], "piece " + i);
                    }
                }
            }
        }
    }

    @Test
    void smallOddPiecesAndEdgeCases() {
        byte[] data = Oracle.random(10_000, 22);
        byte[][] hashes = Blake3.chunkHashes(MemorySegment.ofArray(data), 3000);
        assertEquals(4, hashes.length);
        assertArrayEquals(Oracle.hash(data, 9000, 1000), hashes[3]);
        assertArrayEquals(Oracle.hash(data, 3000, 3000), hashes[1]);
        assertEquals(0, Blake3.chunkHashes(MemorySegment.ofArray(new byte[0]), 1024).length);
        assertThrows(IllegalArgumentException.class, () -> Blake3.chunkHashes(MemorySegment.ofArray(data), 0));
    }
}
