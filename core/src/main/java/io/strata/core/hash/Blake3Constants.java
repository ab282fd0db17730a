package io.strata.core.hash;

import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** BLAKE3's fixed numbers (spec section 2): IV, domain flags, sizes and the per-round message schedule. */
final class Blake3Constants {
    static final int OUT_LEN = 32;
    static final int KEY_LEN = 32;
    static final int BLOCK_LEN = 64;
    static final int CHUNK_LEN = 1024;
    static final int BLOCKS_PER_CHUNK = CHUNK_LEN / BLOCK_LEN;
    static final int ROUNDS = 7;
    /** Enough for 2^54 chunks (16 EiB): the incremental hasher's chaining-value stack never overflows. */
    static final int MAX_DEPTH = 54;

    static final int CHUNK_START = 1;
    static final int CHUNK_END = 1 << 1;
    static final int PARENT = 1 << 2;
    static final int ROOT = 1 << 3;
    static final int KEYED_HASH = 1 << 4;
    static final int DERIVE_KEY_CONTEXT = 1 << 5;
    static final int DERIVE_KEY_MATERIAL = 1 << 6;

    static final int[] IV = {
            0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A, 0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19};

    private static final int[] PERMUTATION = {2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8};

    /** SCHEDULE[16 * r + i]: which original message word feeds position i in round r (the permutation applied r times). */
    static final int[] SCHEDULE = new int[ROUNDS * 16];

    /** Input words are little-endian at any byte offset. */
    static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    static {
        for (int i = 0; i < 16; i++) {
            SCHEDULE[i] = i;
        }
        for (int r = 1; r < ROUNDS; r++) {
            for (int i = 0; i < 16; i++) {
                SCHEDULE[16 * r + i] = SCHEDULE[16 * (r - 1) + PERMUTATION[i]];
            }
        }
    }

    private Blake3Constants() {
    }

    /** A 32-byte key as eight little-endian words. */
    static int[] keyWords(byte[] key) {
        if (key == null || key.length != KEY_LEN) {
            throw new IllegalArgumentException("BLAKE3 key must be " + KEY_LEN + " bytes, got "
                    + (key == null ? "null" : key.length));
        }
        int[] w = new int[8];
        for (int i = 0; i < 8; i++) {
            w[i] = (key[4 * i] & 0xFF) | (key[4 * i + 1] & 0xFF) << 8 | (key[4 * i + 2] & 0xFF) << 16 | key[4 * i + 3] << 24;
        }
        return w;
    }

    /** Eight words as 32 little-endian bytes. */
    static byte[] wordsToBytes(int[] words, int off) {
        byte[] out = new byte[OUT_LEN];
        for (int i = 0; i < 8; i++) {
            int w = words[off + i];
            out[4 * i] = (byte) w;
            out[4 * i + 1] = (byte) (w >>> 8);
            out[4 * i + 2] = (byte) (w >>> 16);
            out[4 * i + 3] = (byte) (w >>> 24);
        }
        return out;
    }
}
