package io.strata.storage.convert;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Cache-blocked matrix transpose between memory segments: {@code dst[j][i] = src[i][j]}. Works in 64 x 64 tiles
 * so both the reads and the writes of a tile stay in L1, instead of striding through the whole destination for
 * every source row. Element sizes 1, 2, 4 and 8; byte order does not matter (elements are moved, not read).
 */
final class Transpose {
    static final int TILE = 64;
    private static final ValueLayout.OfShort S = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final ValueLayout.OfInt I = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfLong L = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final ValueLayout.OfByte B = ValueLayout.JAVA_BYTE;

    private Transpose() {
    }

    /**
     * Transposes the {@code rows x cols} block at {@code srcOff} (row stride {@code srcStride} bytes) into
     * {@code dst} at {@code dstOff} as {@code cols x rows} (row stride {@code dstStride} bytes).
     */
    static void blocked(MemorySegment src, long srcOff, long srcStride, long rows, long cols,
                        MemorySegment dst, long dstOff, long dstStride, int elemSize) {
        for (long i0 = 0; i0 < rows; i0 += TILE) {
            long i1 = Math.min(rows, i0 + TILE);
            for (long j0 = 0; j0 < cols; j0 += TILE) {
                long j1 = Math.min(cols, j0 + TILE);
                switch (elemSize) {
                    case 2 -> tile2(src, srcOff, srcStride, dst, dstOff, dstStride, i0, i1, j0, j1);
                    case 4 -> tile4(src, srcOff, srcStride, dst, dstOff, dstStride, i0, i1, j0, j1);
                    case 8 -> tile8(src, srcOff, srcStride, dst, dstOff, dstStride, i0, i1, j0, j1);
                    case 1 -> tile1(src, srcOff, srcStride, dst, dstOff, dstStride, i0, i1, j0, j1);
                    default -> throw new IllegalArgumentException("element size " + elemSize);
                }
            }
        }
    }

    // Destination-major inner loop: each destination row of the tile is written sequentially.
    private static void tile2(MemorySegment src, long so, long ss, MemorySegment dst, long dOff, long ds,
                              long i0, long i1, long j0, long j1) {
        for (long j = j0; j < j1; j++) {
            long d = dOff + j * ds + i0 * 2;
            long s = so + i0 * ss + j * 2;
            for (long i = i0; i < i1; i++, d += 2, s += ss) {
                dst.set(S, d, src.get(S, s));
            }
        }
    }

    private static void tile4(MemorySegment src, long so, long ss, MemorySegment dst, long dOff, long ds,
                              long i0, long i1, long j0, long j1) {
        for (long j = j0; j < j1; j++) {
            long d = dOff + j * ds + i0 * 4;
            long s = so + i0 * ss + j * 4;
            for (long i = i0; i < i1; i++, d += 4, s += ss) {
                dst.set(I, d, src.get(I, s));
            }
        }
    }

    private static void tile8(MemorySegment src, long so, long ss, MemorySegment dst, long dOff, long ds,
                              long i0, long i1, long j0, long j1) {
        for (long j = j0; j < j1; j++) {
            long d = dOff + j * ds + i0 * 8;
            long s = so + i0 * ss + j * 8;
            for (long i = i0; i < i1; i++, d += 8, s += ss) {
                dst.set(L, d, src.get(L, s));
            }
        }
    }

    private static void tile1(MemorySegment src, long so, long ss, MemorySegment dst, long dOff, long ds,
                              long i0, long i1, long j0, long j1) {
        for (long j = j0; j < j1; j++) {
            long d = dOff + j * ds + i0;
            long s = so + i0 * ss + j;
            for (long i = i0; i < i1; i++, d++, s += ss) {
                dst.set(B, d, src.get(B, s));
            }
        }
    }

    /** Element-by-element reference, for tests. */
    static void naive(MemorySegment src, long srcOff, long srcStride, long rows, long cols,
                      MemorySegment dst, long dstOff, long dstStride, int elemSize) {
        for (long i = 0; i < rows; i++) {
            for (long j = 0; j < cols; j++) {
                MemorySegment.copy(src, srcOff + i * srcStride + j * elemSize, dst, dstOff + j * dstStride
                        + i * elemSize, elemSize);
            }
        }
    }
}
