package io.strata.core.hash;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The SIMD compressor against the scalar reference, node by node, for every batch size up to two full batches. */
class CompressorEquivalenceTest {

    @Test
    void chunksAndParentsMatchScalarForEveryBatchSize() {
        ChunkCompressor vector = Compressors.vectorOrNull();
        assumeTrue(vector != null, "Vector API unavailable");
        ChunkCompressor scalar = Compressors.scalar();
        int max = 2 * vector.lanes() + 1;
        byte[] data = Oracle.random(max * 1024 + 7, 40);
        MemorySegment seg = MemorySegment.ofArray(data);
        int[] key = Blake3Constants.keyWords(Oracle.random(32, 41));
        Random rnd = new Random(42);
        for (int n = 1; n <= max; n++) {
            // A counter near 2^32 exercises the carry into the high counter word across lanes.
            long counter = n % 2 == 0 ? 0xFFFF_FFF8L : n;
            int[] a = new int[8 * n];
            int[] b = new int[8 * n];
            vector.chunks(seg, 7, n, counter, key, Blake3Constants.KEYED_HASH, a, 0);
            scalar.chunks(seg, 7, n, counter, key, Blake3Constants.KEYED_HASH, b, 0);
            assertArrayEquals(b, a, "chunks n=" + n);

            int[] in = new int[16 * n];
            for (int i = 0; i < in.length; i++) {
                in[i] = rnd.nextInt();
            }
            int[] inPlace = in.clone();
            int[] p = new int[8 * n];
            int[] q = new int[8 * n];
            vector.parents(in, 0, n, key, 0, p, 0);
            scalar.parents(in, 0, n, key, 0, q, 0);
            assertArrayEquals(q, p, "parents n=" + n);
            vector.parents(inPlace, 0, n, key, 0, inPlace, 0);
            assertArrayEquals(q, java.util.Arrays.copyOf(inPlace, 8 * n), "in-place parents n=" + n);
        }
    }
}
