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

import java.lang.foreign.MemorySegment;

/**
 * The BLAKE3 compression function in plain Java, one block at a time: the reference the SIMD path is checked
 * against, the fallback when the Vector API is absent, and the path for partial chunks and single parents.
 */
final class ScalarCompressor implements ChunkCompressor {
    static final ScalarCompressor INSTANCE = new ScalarCompressor();

    private ScalarCompressor() {
    }

    /**
     * Compresses one 16-word block {@code m[mOff..]} into chaining value {@code cv[cvOff..]}; writes the first eight
     * output words (the next chaining value, or the 32-byte hash when {@code flags} has ROOT) to {@code out[outOff..]}.
     * All inputs are read before anything is written, so {@code out} may overlap {@code cv} or {@code m}.
     */
    static void compress(int[] cv, int cvOff, int[] m, int mOff, long counter, int blockLen, int flags,
                         int[] out, int outOff) {
        int s0 = cv[cvOff], s1 = cv[cvOff + 1], s2 = cv[cvOff + 2], s3 = cv[cvOff + 3];
        int s4 = cv[cvOff + 4], s5 = cv[cvOff + 5], s6 = cv[cvOff + 6], s7 = cv[cvOff + 7];
        int s8 = IV[0], s9 = IV[1], s10 = IV[2], s11 = IV[3];
        int s12 = (int) counter, s13 = (int) (counter >>> 32), s14 = blockLen, s15 = flags;
        int m0 = m[mOff], m1 = m[mOff + 1], m2 = m[mOff + 2], m3 = m[mOff + 3];
        int m4 = m[mOff + 4], m5 = m[mOff + 5], m6 = m[mOff + 6], m7 = m[mOff + 7];
        int m8 = m[mOff + 8], m9 = m[mOff + 9], m10 = m[mOff + 10], m11 = m[mOff + 11];
        int m12 = m[mOff + 12], m13 = m[mOff + 13], m14 = m[mOff + 14], m15 = m[mOff + 15];
        for (int r = 0; r < ROUNDS; r++) {
            s0 += s4 + m0; s12 = Integer.rotateRight(s12 ^ s0, 16); s8 += s12; s4 = Integer.rotateRight(s4 ^ s8, 12);
            s0 += s4 + m1; s12 = Integer.rotateRight(s12 ^ s0, 8); s8 += s12; s4 = Integer.rotateRight(s4 ^ s8, 7);
            s1 += s5 + m2; s13 = Integer.rotateRight(s13 ^ s1, 16); s9 += s13; s5 = Integer.rotateRight(s5 ^ s9, 12);
            s1 += s5 + m3; s13 = Integer.rotateRight(s13 ^ s1, 8); s9 += s13; s5 = Integer.rotateRight(s5 ^ s9, 7);
            s2 += s6 + m4; s14 = Integer.rotateRight(s14 ^ s2, 16); s10 += s14; s6 = Integer.rotateRight(s6 ^ s10, 12);
            s2 += s6 + m5; s14 = Integer.rotateRight(s14 ^ s2, 8); s10 += s14; s6 = Integer.rotateRight(s6 ^ s10, 7);
            s3 += s7 + m6; s15 = Integer.rotateRight(s15 ^ s3, 16); s11 += s15; s7 = Integer.rotateRight(s7 ^ s11, 12);
            s3 += s7 + m7; s15 = Integer.rotateRight(s15 ^ s3, 8); s11 += s15; s7 = Integer.rotateRight(s7 ^ s11, 7);
            s0 += s5 + m8; s15 = Integer.rotateRight(s15 ^ s0, 16); s10 += s15; s5 = Integer.rotateRight(s5 ^ s10, 12);
            s0 += s5 + m9; s15 = Integer.rotateRight(s15 ^ s0, 8); s10 += s15; s5 = Integer.rotateRight(s5 ^ s10, 7);
            s1 += s6 + m10; s12 = Integer.rotateRight(s12 ^ s1, 16); s11 += s12; s6 = Integer.rotateRight(s6 ^ s11, 12);
            s1 += s6 + m11; s12 = Integer.rotateRight(s12 ^ s1, 8); s11 += s12; s6 = Integer.rotateRight(s6 ^ s11, 7);
            s2 += s7 + m12; s13 = Integer.rotateRight(s13 ^ s2, 16); s8 += s13; s7 = Integer.rotateRight(s7 ^ s8, 12);
            s2 += s7 + m13; s13 = Integer.rotateRight(s13 ^ s2, 8); s8 += s13; s7 = Integer.rotateRight(s7 ^ s8, 7);
            s3 += s4 + m14; s14 = Integer.rotateRight(s14 ^ s3, 16); s9 += s14; s4 = Integer.rotateRight(s4 ^ s9, 12);
            s3 += s4 + m15; s14 = Integer.rotateRight(s14 ^ s3, 8); s9 += s14; s4 = Integer.rotateRight(s4 ^ s9, 7);
            // Permute the message words for the next round: m'[i] = m[PERMUTATION[i]].
            int t0 = m2, t1 = m6, t2 = m3, t3 = m10, t4 = m7, t5 = m0, t6 = m4, t7 = m13;
            int t8 = m1, t9 = m11, t10 = m12, t11 = m5, t12 = m9, t13 = m14, t14 = m15, t15 = m8;
            m0 = t0; m1 = t1; m2 = t2; m3 = t3; m4 = t4; m5 = t5; m6 = t6; m7 = t7;
            m8 = t8; m9 = t9; m10 = t10; m11 = t11; m12 = t12; m13 = t13; m14 = t14; m15 = t15;
        }
        out[outOff] = s0 ^ s8;
        out[outOff + 1] = s1 ^ s9;
        out[outOff + 2] = s2 ^ s10;
        out[outOff + 3] = s3 ^ s11;
        out[outOff + 4] = s4 ^ s12;
        out[outOff + 5] = s5 ^ s13;
        out[outOff + 6] = s6 ^ s14;
        out[outOff + 7] = s7 ^ s15;
    }

    /** Chaining value of one parent node whose children are the 16 words at {@code in[inOff]}. */
    static void parent(int[] in, int inOff, int[] key, int flags, int[] out, int outOff) {
        compress(key, 0, in, inOff, 0, BLOCK_LEN, flags | PARENT, out, outOff);
    }

    /** Chaining value of one whole chunk read straight from memory. */
    static void chunk(MemorySegment src, long off, long counter, int[] key, int flags, int[] words, int[] out, int outOff) {
        System.arraycopy(key, 0, out, outOff, 8);
        for (int b = 0; b < BLOCKS_PER_CHUNK; b++) {
            MemorySegment.copy(src, LE_INT, off + (long) b * BLOCK_LEN, words, 0, 16);
            int f = flags | (b == 0 ? CHUNK_START : 0) | (b == BLOCKS_PER_CHUNK - 1 ? CHUNK_END : 0);
            compress(out, outOff, words, 0, counter, BLOCK_LEN, f, out, outOff);
        }
    }

    @Override
    public void chunks(MemorySegment src, long off, int n, long counter, int[] key, int flags, int[] out, int outOff) {
        int[] words = new int[16];
        for (int i = 0; i < n; i++) {
            chunk(src, off + (long) i * CHUNK_LEN, counter + i, key, flags, words, out, outOff + 8 * i);
        }
    }

    @Override
    public void parents(int[] in, int inOff, int n, int[] key, int flags, int[] out, int outOff) {
        for (int i = 0; i < n; i++) {
            parent(in, inOff + 16 * i, key, flags, out, outOff + 8 * i);
        }
    }

    @Override
    public int lanes() {
        return 1;
    }

    @Override
    public String description() {
        return "scalar";
    }
}
