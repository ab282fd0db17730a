package io.strata.storage.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TransposeTest {
    /** Blocked equals the element-by-element reference, for every element size, on sub-blocks with odd edges. */
    @Test
    void blockedMatchesNaiveOnSubBlocks() {
        Random r = new Random(11);
        int[][] dims = {{1, 1}, {3, 130}, {64, 64}, {65, 129}, {200, 7}, {128, 256}};
        for (int es : new int[]{1, 2, 4, 8}) {
            for (int[] d : dims) {
                int rows = d[0] + 5;
                int cols = d[1] + 3;
                byte[] src = new byte[rows * cols * es];
                r.nextBytes(src);
                MemorySegment s = MemorySegment.ofArray(src);
                // the block rows [2, 2+d0) x cols [1, 1+d1) of the [rows, cols] matrix
                long off = (2L * cols + 1) * es;
                MemorySegment a = MemorySegment.ofArray(new byte[d[0] * d[1] * es + 16]);
                MemorySegment b = MemorySegment.ofArray(new byte[d[0] * d[1] * es + 16]);
                Transpose.blocked(s, off, (long) cols * es, d[0], d[1], a, 16, (long) d[0] * es, es);
                Transpose.naive(s, off, (long) cols * es, d[0], d[1], b, 16, (long) d[0] * es, es);
                assertArrayEquals(b.toArray(ValueLayout.JAVA_BYTE), a.toArray(ValueLayout.JAVA_BYTE),
                        es + "-byte " + d[0] + "x" + d[1]);
            }
        }
    }

    @Test
    void transposeTwiceIsIdentity() {
        int rows = 77;
        int cols = 150;
        byte[] src = new byte[rows * cols * 2];
        new Random(5).nextBytes(src);
        MemorySegment t = MemorySegment.ofArray(new byte[src.length]);
        MemorySegment back = MemorySegment.ofArray(new byte[src.length]);
        Transpose.blocked(MemorySegment.ofArray(src), 0, cols * 2L, rows, cols, t, 0, rows * 2L, 2);
        Transpose.blocked(t, 0, rows * 2L, cols, rows, back, 0, cols * 2L, 2);
        assertArrayEquals(src, back.toArray(ValueLayout.JAVA_BYTE));
    }
}
