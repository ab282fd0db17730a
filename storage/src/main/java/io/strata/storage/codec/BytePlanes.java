package io.strata.storage.codec;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Byte-plane split: element byte {@code b} of every element goes to plane {@code b}. For float32 the top byte
 * (sign and high exponent bits) of neighbouring values is nearly constant, so its plane compresses well while the
 * mantissa planes stay noise; interleaved, a byte codec sees only noise.
 */
final class BytePlanes {
    private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle SHORT = MethodHandles.byteArrayViewVarHandle(short[].class,
            ByteOrder.LITTLE_ENDIAN);

    private BytePlanes() {
    }

    /** Writes the planes of {@code src[0, length)} ({@code width}-byte elements) to {@code dst[0, length)}. */
    public static void split(byte[] src, int length, int width, byte[] dst) {
        checkShape(length, width);
        int n = length / width;
        if (width == 4) { // one pass: read each element once, four sequential output streams
            for (int i = 0; i < n; i++) {
                int v = (int) INT.get(src, i << 2);
                dst[i] = (byte) v;
                dst[n + i] = (byte) (v >>> 8);
                dst[2 * n + i] = (byte) (v >>> 16);
                dst[3 * n + i] = (byte) (v >>> 24);
            }
            return;
        }
        if (width == 2) {
            for (int i = 0; i < n; i++) {
                short v = (short) SHORT.get(src, i << 1);
                dst[i] = (byte) v;
                dst[n + i] = (byte) (v >>> 8);
            }
            return;
        }
        splitScalar(src, length, width, dst);
    }

    /** Reference: one strided pass per plane. */
    static void splitScalar(byte[] src, int length, int width, byte[] dst) {
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
        if (width == 4) {
            for (int i = 0; i < n; i++) {
                int v = (src[i] & 0xFF) | (src[n + i] & 0xFF) << 8 | (src[2 * n + i] & 0xFF) << 16
                        | (src[3 * n + i] & 0xFF) << 24;
                INT.set(dst, i << 2, v);
            }
            return;
        }
        if (width == 2) {
            for (int i = 0; i < n; i++) {
                SHORT.set(dst, i << 1, (short) ((src[i] & 0xFF) | (src[n + i] & 0xFF) << 8));
            }
            return;
        }
        mergeScalar(src, length, width, dst);
    }

    /** Reference: one strided pass per plane. */
    static void mergeScalar(byte[] src, int length, int width, byte[] dst) {
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
