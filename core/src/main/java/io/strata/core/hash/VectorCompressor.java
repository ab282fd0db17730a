package io.strata.core.hash;

import static io.strata.core.hash.Blake3Constants.BLOCKS_PER_CHUNK;
import static io.strata.core.hash.Blake3Constants.BLOCK_LEN;
import static io.strata.core.hash.Blake3Constants.CHUNK_END;
import static io.strata.core.hash.Blake3Constants.CHUNK_LEN;
import static io.strata.core.hash.Blake3Constants.CHUNK_START;
import static io.strata.core.hash.Blake3Constants.IV;
import static io.strata.core.hash.Blake3Constants.LE_INT;
import static io.strata.core.hash.Blake3Constants.PARENT;
import static io.strata.core.hash.Blake3Constants.ROUNDS;
import static io.strata.core.hash.Blake3Constants.SCHEDULE;
import static jdk.incubator.vector.VectorOperators.ROR;
import static jdk.incubator.vector.VectorOperators.XOR;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * BLAKE3 with the Vector API: one lane per chunk (or per parent node), so a 512-bit machine compresses 16 chunks with
 * the instructions scalar code spends on one. Message words are transposed into lane order once per batch (a gather
 * per word from an int[] copy of the chunks); the 7 rounds then run on 16 state vectors held in registers.
 */
final class VectorCompressor implements ChunkCompressor {
    private static final VectorSpecies<Integer> S = IntVector.SPECIES_PREFERRED;
    static final int LANES = S.length();
    /** Below this many nodes a batch is cheaper in scalar code than one full-width vector pass. */
    private static final int MIN_VECTOR_NODES = 2;

    private static final int[] CHUNK_INDEX = strided(CHUNK_LEN / 4);
    private static final int[] PARENT_INDEX = strided(16);
    private static final int[] CV_INDEX = strided(8);
    /** SCHEDULE scaled to offsets in the lane-transposed message buffer. */
    private static final int[] SCHEDULE_L = new int[SCHEDULE.length];

    static {
        for (int i = 0; i < SCHEDULE.length; i++) {
            SCHEDULE_L[i] = SCHEDULE[i] * LANES;
        }
    }

    /** Per-thread buffers: the raw chunk words, their lane-transposed copy, counters and lane-major outputs. */
    private static final class Scratch {
        final int[] words = new int[LANES * CHUNK_LEN / 4];
        final int[] msg = new int[BLOCKS_PER_CHUNK * 16 * LANES];
        final int[] counterLo = new int[LANES];
        final int[] counterHi = new int[LANES];
        final int[] zeros = new int[LANES];
        final int[] cvOut = new int[LANES * 8];
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    static final VectorCompressor INSTANCE = new VectorCompressor();

    private VectorCompressor() {
    }

    private static int[] strided(int stride) {
        int[] idx = new int[LANES];
        for (int l = 0; l < LANES; l++) {
            idx[l] = l * stride;
        }
        return idx;
    }

    @Override
    public void chunks(MemorySegment src, long off, int n, long counter, int[] key, int flags, int[] out, int outOff) {
        Scratch s = SCRATCH.get();
        int done = 0;
        while (n - done >= MIN_VECTOR_NODES) {
            int k = Math.min(LANES, n - done);
            MemorySegment.copy(src, LE_INT, off + (long) done * CHUNK_LEN, s.words, 0, k * (CHUNK_LEN / 4));
            // Transpose: msg[(16 * block + word) * LANES + lane] = word of that block of chunk `lane`.
            for (int i = 0; i < BLOCKS_PER_CHUNK * 16; i++) {
                IntVector.fromArray(S, s.words, i, CHUNK_INDEX, 0).intoArray(s.msg, i * LANES);
            }
            for (int l = 0; l < LANES; l++) {
                long c = counter + done + l;
                s.counterLo[l] = (int) c;
                s.counterHi[l] = (int) (c >>> 32);
            }
            compress(s.msg, BLOCKS_PER_CHUNK, key, flags, CHUNK_START, CHUNK_END, s.counterLo, s.counterHi, s.cvOut);
            System.arraycopy(s.cvOut, 0, out, outOff + 8 * done, 8 * k);
            done += k;
        }
        if (done < n) {
            ScalarCompressor.INSTANCE.chunks(src, off + (long) done * CHUNK_LEN, n - done, counter + done, key, flags,
                    out, outOff + 8 * done);
        }
    }

    @Override
    public void parents(int[] in, int inOff, int n, int[] key, int flags, int[] out, int outOff) {
        Scratch s = SCRATCH.get();
        int done = 0;
        while (n - done >= MIN_VECTOR_NODES) {
            int k = Math.min(LANES, n - done);
            // Gather from a full-width copy: lanes past k read stale words instead of running off the array.
            System.arraycopy(in, inOff + 16 * done, s.words, 0, 16 * k);
            for (int w = 0; w < 16; w++) {
                IntVector.fromArray(S, s.words, w, PARENT_INDEX, 0).intoArray(s.msg, w * LANES);
            }
            compress(s.msg, 1, key, flags | PARENT, 0, 0, s.zeros, s.zeros, s.cvOut);
            // Every read of this batch happened above, so writing in place over `in` is safe.
            System.arraycopy(s.cvOut, 0, out, outOff + 8 * done, 8 * k);
            done += k;
        }
        if (done < n) {
            ScalarCompressor.INSTANCE.parents(in, inOff + 16 * done, n - done, key, flags, out, outOff + 8 * done);
        }
    }

    /**
     * Runs {@code blocks} full 64-byte blocks per lane through the compression function, chaining each block's output
     * into the next; {@code startFlag} marks the first block, {@code endFlag} the last. Writes eight chaining-value
     * words per lane, lane-major, into {@code cvOut}.
     */
    private static void compress(int[] msg, int blocks, int[] key, int flags, int startFlag, int endFlag,
                                 int[] counterLo, int[] counterHi, int[] cvOut) {
        IntVector h0 = IntVector.broadcast(S, key[0]);
        IntVector h1 = IntVector.broadcast(S, key[1]);
        IntVector h2 = IntVector.broadcast(S, key[2]);
        IntVector h3 = IntVector.broadcast(S, key[3]);
        IntVector h4 = IntVector.broadcast(S, key[4]);
        IntVector h5 = IntVector.broadcast(S, key[5]);
        IntVector h6 = IntVector.broadcast(S, key[6]);
        IntVector h7 = IntVector.broadcast(S, key[7]);
        IntVector lo = IntVector.fromArray(S, counterLo, 0);
        IntVector hi = IntVector.fromArray(S, counterHi, 0);
        for (int b = 0; b < blocks; b++) {
            int f = flags | (b == 0 ? startFlag : 0) | (b == blocks - 1 ? endFlag : 0);
            IntVector v0 = h0, v1 = h1, v2 = h2, v3 = h3, v4 = h4, v5 = h5, v6 = h6, v7 = h7;
            IntVector v8 = IntVector.broadcast(S, IV[0]);
            IntVector v9 = IntVector.broadcast(S, IV[1]);
            IntVector v10 = IntVector.broadcast(S, IV[2]);
            IntVector v11 = IntVector.broadcast(S, IV[3]);
            IntVector v12 = lo;
            IntVector v13 = hi;
            IntVector v14 = IntVector.broadcast(S, BLOCK_LEN);
            IntVector v15 = IntVector.broadcast(S, f);
            int mb = b * 16 * LANES;
            for (int r = 0; r < ROUNDS; r++) {
                int so = 16 * r;
                IntVector m0 = IntVector.fromArray(S, msg, mb + SCHEDULE_L[so + 0]);
                IntVector m1 = IntVector.fromArray(S, msg, mb + SCHEDULE_L[so + 1]);
                IntVector m2 = IntVector.fromArray(S, msg, mb + SCHEDULE_L[so + 2]);
                IntVector m3 = IntVector.fromArray(S, msg, mb + SCHEDULE_L[so + 3]);
                IntVector m4 = IntVector.fromArray(S, msg, mb + SCHEDULE_L[so + 4]);
                IntVector m5 = IntVector.fromArray(S, msg, mb + SCHEDULE_L[so + 5]);
                IntVector m6 = IntVector.fromArray(S, msg, mb + SCHEDULE_L[so + 6]);
                IntVector m7 = IntVector.fromArray(S, msg, mb + SCHEDULE_L[so + 7]);
                IntVector m8 = IntVector.fromArray(S, msg, mb + SCHEDULE_L[so + 8]);
                IntVector m9 = IntVector.fromArray(S, msg, mb + SCHEDULE_L[so + 9]);
                IntVector m10 = IntVector.fromArray(S, msg, mb + SCHEDULE_L[so + 10]);
                IntVector m11 = IntVector.fromArray(S, msg, mb + SCHEDULE_L[so + 11]);
                IntVector m12 = IntVector.fromArray(S, msg, mb + SCHEDULE_L[so + 12]);
                IntVector m13 = IntVector.fromArray(S, msg, mb + SCHEDULE_L[so + 13]);
                IntVector m14 = IntVector.fromArray(S, msg, mb + SCHEDULE_L[so + 14]);
                IntVector m15 = IntVector.fromArray(S, msg, mb + SCHEDULE_L[so + 15]);
                v0 = v0.add(v4).add(m0); v12 = v12.lanewise(XOR, v0).lanewise(ROR, 16);
                v8 = v8.add(v12); v4 = v4.lanewise(XOR, v8).lanewise(ROR, 12);
                v0 = v0.add(v4).add(m1); v12 = v12.lanewise(XOR, v0).lanewise(ROR, 8);
                v8 = v8.add(v12); v4 = v4.lanewise(XOR, v8).lanewise(ROR, 7);
                v1 = v1.add(v5).add(m2); v13 = v13.lanewise(XOR, v1).lanewise(ROR, 16);
                v9 = v9.add(v13); v5 = v5.lanewise(XOR, v9).lanewise(ROR, 12);
                v1 = v1.add(v5).add(m3); v13 = v13.lanewise(XOR, v1).lanewise(ROR, 8);
                v9 = v9.add(v13); v5 = v5.lanewise(XOR, v9).lanewise(ROR, 7);
                v2 = v2.add(v6).add(m4); v14 = v14.lanewise(XOR, v2).lanewise(ROR, 16);
                v10 = v10.add(v14); v6 = v6.lanewise(XOR, v10).lanewise(ROR, 12);
                v2 = v2.add(v6).add(m5); v14 = v14.lanewise(XOR, v2).lanewise(ROR, 8);
                v10 = v10.add(v14); v6 = v6.lanewise(XOR, v10).lanewise(ROR, 7);
                v3 = v3.add(v7).add(m6); v15 = v15.lanewise(XOR, v3).lanewise(ROR, 16);
                v11 = v11.add(v15); v7 = v7.lanewise(XOR, v11).lanewise(ROR, 12);
                v3 = v3.add(v7).add(m7); v15 = v15.lanewise(XOR, v3).lanewise(ROR, 8);
                v11 = v11.add(v15); v7 = v7.lanewise(XOR, v11).lanewise(ROR, 7);
                v0 = v0.add(v5).add(m8); v15 = v15.lanewise(XOR, v0).lanewise(ROR, 16);
                v10 = v10.add(v15); v5 = v5.lanewise(XOR, v10).lanewise(ROR, 12);
                v0 = v0.add(v5).add(m9); v15 = v15.lanewise(XOR, v0).lanewise(ROR, 8);
                v10 = v10.add(v15); v5 = v5.lanewise(XOR, v10).lanewise(ROR, 7);
                v1 = v1.add(v6).add(m10); v12 = v12.lanewise(XOR, v1).lanewise(ROR, 16);
                v11 = v11.add(v12); v6 = v6.lanewise(XOR, v11).lanewise(ROR, 12);
                v1 = v1.add(v6).add(m11); v12 = v12.lanewise(XOR, v1).lanewise(ROR, 8);
                v11 = v11.add(v12); v6 = v6.lanewise(XOR, v11).lanewise(ROR, 7);
                v2 = v2.add(v7).add(m12); v13 = v13.lanewise(XOR, v2).lanewise(ROR, 16);
                v8 = v8.add(v13); v7 = v7.lanewise(XOR, v8).lanewise(ROR, 12);
                v2 = v2.add(v7).add(m13); v13 = v13.lanewise(XOR, v2).lanewise(ROR, 8);
                v8 = v8.add(v13); v7 = v7.lanewise(XOR, v8).lanewise(ROR, 7);
                v3 = v3.add(v4).add(m14); v14 = v14.lanewise(XOR, v3).lanewise(ROR, 16);
                v9 = v9.add(v14); v4 = v4.lanewise(XOR, v9).lanewise(ROR, 12);
                v3 = v3.add(v4).add(m15); v14 = v14.lanewise(XOR, v3).lanewise(ROR, 8);
                v9 = v9.add(v14); v4 = v4.lanewise(XOR, v9).lanewise(ROR, 7);
            }
            h0 = v0.lanewise(XOR, v8);
            h1 = v1.lanewise(XOR, v9);
            h2 = v2.lanewise(XOR, v10);
            h3 = v3.lanewise(XOR, v11);
            h4 = v4.lanewise(XOR, v12);
            h5 = v5.lanewise(XOR, v13);
            h6 = v6.lanewise(XOR, v14);
            h7 = v7.lanewise(XOR, v15);
        }
        h0.intoArray(cvOut, 0, CV_INDEX, 0);
        h1.intoArray(cvOut, 1, CV_INDEX, 0);
        h2.intoArray(cvOut, 2, CV_INDEX, 0);
        h3.intoArray(cvOut, 3, CV_INDEX, 0);
        h4.intoArray(cvOut, 4, CV_INDEX, 0);
        h5.intoArray(cvOut, 5, CV_INDEX, 0);
        h6.intoArray(cvOut, 6, CV_INDEX, 0);
        h7.intoArray(cvOut, 7, CV_INDEX, 0);
    }

    @Override
    public int lanes() {
        return LANES;
    }

    @Override
    public String description() {
        return "vector-" + S.vectorBitSize() + "bit-" + LANES + "lanes";
    }
}
