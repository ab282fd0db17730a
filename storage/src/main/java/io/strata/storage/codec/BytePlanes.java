package io.strata.storage.codec;

/**
 * Byte-plane split: element byte {@code b} of every element goes to plane {@code b}. For float32 the top byte
 * (sign and high exponent bits) of neighbouring values is nearly constant, so its plane compresses well while the
 * mantissa planes stay noise; interleaved, a byte codec sees only noise.
 */
public final class BytePlanes {
    private BytePlanes() {
    }

    /** Writes the planes of {@code src[0, length)} ({@code width}-byte elements) to {@code dst[0, length)}. */
    public static void split(byte[] src, int length, int width, byte[] dst) {
        checkShape(length, width);
        int n = length / width;
        for (int b = 0; b < width; b++) {
            int base = b * n;
            for (int i = 0, s = b; i < n; i++, s += width) {
                dst[base + i] = src[s];
            }
        }
    }

    /** Inverse of {@link #split}. */
    public static void merge(byte[] src, int length, int width, byte[] dst) {
        checkShape(length, width);
        int n = length / width;
        for (int b = 0; b < width; b++) {
            int base = b * n;
            for (int i = 0, d = b; i < n; i++, d += width) {
                dst[d] = src[base + i];
            }
        }
    }

    private static void checkShape(int length, int width) {
        if (width != 1 && width != 2 && width != 4 && width != 8) {
            throw new IllegalArgumentException("plane width must be 1, 2, 4 or 8, not " + width);
        }
        if (length % width != 0) {
            throw new IllegalArgumentException(length + " bytes is not a whole number of " + width + "-byte elements");
        }
    }
}
