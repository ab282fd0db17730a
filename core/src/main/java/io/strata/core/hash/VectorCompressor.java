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
 * the instructions scalar code spends on one. Each batch is copied to an int[], its message words transposed into
 * lane order with two-vector permutes; the 7 rounds then run on 16 state vectors held in registers.
 */
final class VectorCompressor implements ChunkCompressor {
    private static final VectorSpecies<Integer> S = IntVector.SPECIES_PREFERRED;
    static final int LANES = S.length();
    /** Below this many nodes a batch is cheaper in scalar code than one full-width vector pass. */
    private static final int MIN_VECTOR_NODES = 2;

    /** Butterfly stages of the LANES x LANES transpose; supported widths are 4, 8 and 16 lanes (16 words divide). */
    private static final int STAGES = Integer.numberOfTrailingZeros(LANES);
    /** Per stage k, the two-vector permute indexes producing the new low row and the new high row of each pair. */
    private static final int[] SELECT_LOW = new int[Math.max(1, STAGES) * LANES];
    private static final int[] SELECT_HIGH = new int[Math.max(1, STAGES) * LANES];
    /** SCHEDULE scaled to offsets in the lane-transposed message buffer. */
    private static final int[] SCHEDULE_L = new int[SCHEDULE.length];

    static {
        for (int i = 0; i < SCHEDULE.length; i++) {
            SCHEDULE_L[i] = SCHEDULE[i] * LANES;
        }
        for (int k = 0; k < STAGES; k++) {
            int bit = 1 << k;
            for (int c = 0; c < LANES; c++) {
                // Lane c of the low row keeps a[c] if c's bit k is clear, else takes b[c ^ bit]; mirrored for high.
                SELECT_LOW[k * LANES + c] = (c & bit) == 0 ? c : LANES + (c ^ bit);
                SELECT_HIGH[k * LANES + c] = (c & bit) == 0 ? (c | bit) : LANES + c;
            }
        }
    }

    /** True where this JVM's preferred int vector is a width the transpose supports. */
    static boolean supported() {
        return LANES >= 4 && LANES <= 16;
    }

    /** Per-thread buffers: the raw batch words, their lane-transposed copy, counters and word-major outputs. */
    private static final class Scratch {
        final int[] words = new int[LANES * CHUNK_LEN / 4];
        final int[] tile0 = new int[LANES * LANES];
        final int[] tile1 = new int[LANES * LANES];
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

    @Override
    public void chunks(MemorySegment src, long off, int n, long counter, int[] key, int flags, int[] out, int outOff) {
        Scratch s = SCRATCH.get();
        int done = 0;
        while (n - done >= MIN_VECTOR_NODES) {
            int k = Math.min(LANES, n - done);
            // Copy the batch to an int[] first: vector loads from an int[] always compile to plain loads, whereas
            // loads from segments of several kinds (heap byte[], native, mapped) may not be intrinsified by C2.
            MemorySegment.copy(src, LE_INT, off + (long) done * CHUNK_LEN, s.words, 0, k * (CHUNK_LEN / 4));
            // msg[(16 * block + word) * LANES + lane] = that word of that block of chunk `lane`.
            for (int b = 0; b < BLOCKS_PER_CHUNK; b++) {
                for (int h = 0; h < 16; h += LANES) {
                    transpose(s.words, 16 * b + h, CHUNK_LEN / 4, s, (16 * b + h) * LANES);
                }
            }
            for (int l = 0; l < LANES; l++) {
                long c = counter + done + l;
                s.counterLo[l] = (int) c;
                s.counterHi[l] = (int) (c >>> 32);
            }
            compress(s.msg, BLOCKS_PER_CHUNK, key, flags, CHUNK_START, CHUNK_END, s.counterLo, s.counterHi, s.cvOut);
            storeLaneMajor(s.cvOut, k, out, outOff + 8 * done);
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
            // Copy to a full-width buffer: lanes past k read stale words instead of running off the array.
            System.arraycopy(in, inOff + 16 * done, s.words, 0, 16 * k);
            for (int h = 0; h < 16; h += LANES) {
                transpose(s.words, h, 16, s, h * LANES);
            }
            compress(s.msg, 1, key, flags | PARENT, 0, 0, s.zeros, s.zeros, s.cvOut);
            // Every read of this batch happened above, so writing in place over `in` is safe.
            storeLaneMajor(s.cvOut, k, out, outOff + 8 * done);
            done += k;
        }
        if (done < n) {
            ScalarCompressor.INSTANCE.parents(in, inOff + 16 * done, n - done, key, flags, out, outOff + 8 * done);
        }
    }

    /**
     * Transposes a LANES x LANES tile of ints: row r (LANES words at {@code src[base + r * rowStride]}) becomes
     * column r of {@code s.msg[msgOff..]}. log2(LANES) butterfly stages, each a two-vector permute per row
     * ({@code selectFrom(a, b)}, one vpermi2d on AVX-512): far cheaper than gathers, which are microcoded on many CPUs.
     * Stage k swaps bit k of the row index with bit k of the lane index.
     */
    private static void transpose(int[] src, int base, int rowStride, Scratch s, int msgOff) {
        if (LANES == 16) {
            transpose16(src, base, rowStride, s.msg, msgOff);
            return;
        }
        for (int r = 0; r < LANES; r++) {
            IntVector.fromArray(S, src, base + r * rowStride).intoArray(s.tile0, r * LANES);
        }
        int[] from = s.tile0;
        int[] to = s.tile1;
        for (int k = 0; k < STAGES; k++) {
            boolean last = k == STAGES - 1;
            int[] dst = last ? s.msg : to;
            int dstOff = last ? msgOff : 0;
            int bit = 1 << k;
            IntVector selLow = IntVector.fromArray(S, SELECT_LOW, k * LANES);
            IntVector selHigh = IntVector.fromArray(S, SELECT_HIGH, k * LANES);
            for (int r = 0; r < LANES; r++) {
                if ((r & bit) == 0) {
                    IntVector a = IntVector.fromArray(S, from, r * LANES);
                    IntVector b = IntVector.fromArray(S, from, (r | bit) * LANES);
                    selLow.selectFrom(a, b).intoArray(dst, dstOff + r * LANES);
                    selHigh.selectFrom(a, b).intoArray(dst, dstOff + (r | bit) * LANES);
                }
            }
            int[] t = from;
            from = to;
            to = t;
        }
    }

    /**
     * {@link #transpose} for 16 lanes with the tile held in registers: 16 loads, 64 two-vector permutes, 16 stores.
     */
    private static void transpose16(int[] src, int base, int rowStride, int[] msg, int msgOff) {
        IntVector r0 = IntVector.fromArray(S, src, base + 0 * rowStride);
        IntVector r1 = IntVector.fromArray(S, src, base + 1 * rowStride);
        IntVector r2 = IntVector.fromArray(S, src, base + 2 * rowStride);
        IntVector r3 = IntVector.fromArray(S, src, base + 3 * rowStride);
        IntVector r4 = IntVector.fromArray(S, src, base + 4 * rowStride);
        IntVector r5 = IntVector.fromArray(S, src, base + 5 * rowStride);
        IntVector r6 = IntVector.fromArray(S, src, base + 6 * rowStride);
        IntVector r7 = IntVector.fromArray(S, src, base + 7 * rowStride);
        IntVector r8 = IntVector.fromArray(S, src, base + 8 * rowStride);
        IntVector r9 = IntVector.fromArray(S, src, base + 9 * rowStride);
        IntVector r10 = IntVector.fromArray(S, src, base + 10 * rowStride);
        IntVector r11 = IntVector.fromArray(S, src, base + 11 * rowStride);
        IntVector r12 = IntVector.fromArray(S, src, base + 12 * rowStride);
        IntVector r13 = IntVector.fromArray(S, src, base + 13 * rowStride);
        IntVector r14 = IntVector.fromArray(S, src, base + 14 * rowStride);
        IntVector r15 = IntVector.fromArray(S, src, base + 15 * rowStride);
        IntVector lo0 = IntVector.fromArray(S, SELECT_LOW, 0);
        IntVector hi0 = IntVector.fromArray(S, SELECT_HIGH, 0);
        IntVector s0_0 = lo0.selectFrom(r0, r1);
        IntVector s0_1 = hi0.selectFrom(r0, r1);
        IntVector s0_2 = lo0.selectFrom(r2, r3);
        IntVector s0_3 = hi0.selectFrom(r2, r3);
        IntVector s0_4 = lo0.selectFrom(r4, r5);
        IntVector s0_5 = hi0.selectFrom(r4, r5);
        IntVector s0_6 = lo0.selectFrom(r6, r7);
        IntVector s0_7 = hi0.selectFrom(r6, r7);
        IntVector s0_8 = lo0.selectFrom(r8, r9);
        IntVector s0_9 = hi0.selectFrom(r8, r9);
        IntVector s0_10 = lo0.selectFrom(r10, r11);
        IntVector s0_11 = hi0.selectFrom(r10, r11);
        IntVector s0_12 = lo0.selectFrom(r12, r13);
        IntVector s0_13 = hi0.selectFrom(r12, r13);
        IntVector s0_14 = lo0.selectFrom(r14, r15);
        IntVector s0_15 = hi0.selectFrom(r14, r15);
        IntVector lo1 = IntVector.fromArray(S, SELECT_LOW, 16);
        IntVector hi1 = IntVector.fromArray(S, SELECT_HIGH, 16);
        IntVector s1_0 = lo1.selectFrom(s0_0, s0_2);
        IntVector s1_2 = hi1.selectFrom(s0_0, s0_2);
        IntVector s1_1 = lo1.selectFrom(s0_1, s0_3);
        IntVector s1_3 = hi1.selectFrom(s0_1, s0_3);
        IntVector s1_4 = lo1.selectFrom(s0_4, s0_6);
        IntVector s1_6 = hi1.selectFrom(s0_4, s0_6);
        IntVector s1_5 = lo1.selectFrom(s0_5, s0_7);
        IntVector s1_7 = hi1.selectFrom(s0_5, s0_7);
        IntVector s1_8 = lo1.selectFrom(s0_8, s0_10);
        IntVector s1_10 = hi1.selectFrom(s0_8, s0_10);
        IntVector s1_9 = lo1.selectFrom(s0_9, s0_11);
        IntVector s1_11 = hi1.selectFrom(s0_9, s0_11);
        IntVector s1_12 = lo1.selectFrom(s0_12, s0_14);
        IntVector s1_14 = hi1.selectFrom(s0_12, s0_14);
        IntVector s1_13 = lo1.selectFrom(s0_13, s0_15);
        IntVector s1_15 = hi1.selectFrom(s0_13, s0_15);
        IntVector lo2 = IntVector.fromArray(S, SELECT_LOW, 32);
        IntVector hi2 = IntVector.fromArray(S, SELECT_HIGH, 32);
        IntVector s2_0 = lo2.selectFrom(s1_0, s1_4);
        IntVector s2_4 = hi2.selectFrom(s1_0, s1_4);
        IntVector s2_1 = lo2.selectFrom(s1_1, s1_5);
        IntVector s2_5 = hi2.selectFrom(s1_1, s1_5);
        IntVector s2_2 = lo2.selectFrom(s1_2, s1_6);
        IntVector s2_6 = hi2.selectFrom(s1_2, s1_6);
        IntVector s2_3 = lo2.selectFrom(s1_3, s1_7);
        IntVector s2_7 = hi2.selectFrom(s1_3, s1_7);
        IntVector s2_8 = lo2.selectFrom(s1_8, s1_12);
        IntVector s2_12 = hi2.selectFrom(s1_8, s1_12);
        IntVector s2_9 = lo2.selectFrom(s1_9, s1_13);
        IntVector s2_13 = hi2.selectFrom(s1_9, s1_13);
        IntVector s2_10 = lo2.selectFrom(s1_10, s1_14);
        IntVector s2_14 = hi2.selectFrom(s1_10, s1_14);
        IntVector s2_11 = lo2.selectFrom(s1_11, s1_15);
        IntVector s2_15 = hi2.selectFrom(s1_11, s1_15);
        IntVector lo3 = IntVector.fromArray(S, SELECT_LOW, 48);
        IntVector hi3 = IntVector.fromArray(S, SELECT_HIGH, 48);
        IntVector s3_0 = lo3.selectFrom(s2_0, s2_8);
        IntVector s3_8 = hi3.selectFrom(s2_0, s2_8);
        IntVector s3_1 = lo3.selectFrom(s2_1, s2_9);
        IntVector s3_9 = hi3.selectFrom(s2_1, s2_9);
        IntVector s3_2 = lo3.selectFrom(s2_2, s2_10);
        IntVector s3_10 = hi3.selectFrom(s2_2, s2_10);
        IntVector s3_3 = lo3.selectFrom(s2_3, s2_11);
        IntVector s3_11 = hi3.selectFrom(s2_3, s2_11);
        IntVector s3_4 = lo3.selectFrom(s2_4, s2_12);
        IntVector s3_12 = hi3.selectFrom(s2_4, s2_12);
        IntVector s3_5 = lo3.selectFrom(s2_5, s2_13);
        IntVector s3_13 = hi3.selectFrom(s2_5, s2_13);
        IntVector s3_6 = lo3.selectFrom(s2_6, s2_14);
        IntVector s3_14 = hi3.selectFrom(s2_6, s2_14);
        IntVector s3_7 = lo3.selectFrom(s2_7, s2_15);
        IntVector s3_15 = hi3.selectFrom(s2_7, s2_15);
        s3_0.intoArray(msg, msgOff + 0);
        s3_1.intoArray(msg, msgOff + 16);
        s3_2.intoArray(msg, msgOff + 32);
        s3_3.intoArray(msg, msgOff + 48);
        s3_4.intoArray(msg, msgOff + 64);
        s3_5.intoArray(msg, msgOff + 80);
        s3_6.intoArray(msg, msgOff + 96);
        s3_7.intoArray(msg, msgOff + 112);
        s3_8.intoArray(msg, msgOff + 128);
        s3_9.intoArray(msg, msgOff + 144);
        s3_10.intoArray(msg, msgOff + 160);
        s3_11.intoArray(msg, msgOff + 176);
        s3_12.intoArray(msg, msgOff + 192);
        s3_13.intoArray(msg, msgOff + 208);
        s3_14.intoArray(msg, msgOff + 224);
        s3_15.intoArray(msg, msgOff + 240);
    }

    /** Word-major compress output (word w of lane l at {@code w * LANES + l}) to eight words per node. */
    private static void storeLaneMajor(int[] wordMajor, int nodes, int[] out, int outOff) {
        for (int l = 0; l < nodes; l++) {
            for (int w = 0; w < 8; w++) {
                out[outOff + 8 * l + w] = wordMajor[w * LANES + l];
            }
        }
    }

    /**
     * Runs {@code blocks} full 64-byte blocks per lane through the compression function, chaining each block's output
     * into the next; {@code startFlag} marks the first block, {@code endFlag} the last. Writes the eight
     * chaining-value words word-major (word w of lane l at {@code w * LANES + l}) into {@code cvOut}.
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
        h0.intoArray(cvOut, 0 * LANES);
        h1.intoArray(cvOut, 1 * LANES);
        h2.intoArray(cvOut, 2 * LANES);
        h3.intoArray(cvOut, 3 * LANES);
        h4.intoArray(cvOut, 4 * LANES);
        h5.intoArray(cvOut, 5 * LANES);
        h6.intoArray(cvOut, 6 * LANES);
        h7.intoArray(cvOut, 7 * LANES);
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
