package io.strata.kernels.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.core.model.DType;
import io.strata.core.model.Layout;
import io.strata.core.weights.TensorView;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The vector matvec of every quantised type against the scalar reference (dequantise the row, then a double
 * dot product). Tolerance: |y - ref| <= 1e-5 * sum_c |W[r][c] x[c]| per row (float accumulation in a different
 * order; exact products since codes are small integers).
 */
class QuantMatVecTest {
    static Stream<DType> quantised() {
        return Arrays.stream(DType.values()).filter(DType::isQuantized);
    }

    /** Random codes everywhere, then every scale field set to a finite value, so all bit patterns occur. */
    static MemorySegment randomBlocks(Arena arena, DType t, int rows, int cols, Random rnd) {
        long n = rows * t.rowBytes(cols);
        byte[] b = new byte[Math.toIntExact(n)];
        rnd.nextBytes(b);
        MemorySegment s = arena.allocate(n, 64).copyFrom(MemorySegment.ofArray(b));
        int[] f16 = switch (t) {
            case Q8_0, Q4_0, Q5_0 -> new int[]{0};
            case Q4_1, Q5_1, Q4_K, Q5_K -> new int[]{0, 2};
            case Q2_K -> new int[]{80, 82};
            case Q3_K -> new int[]{108};
            case Q6_K -> new int[]{208};
            case MXFP4 -> new int[]{};
            default -> throw new AssertionError(t);
        };
        for (long p = 0; p < n; p += t.blockBytes()) {
            for (int o : f16) {
                s.set(Dequantize.I16, p + o, Float.floatToFloat16((rnd.nextFloat() - 0.3f) * 0.05f));
            }
            if (t == DType.MXFP4) {
                s.set(ValueLayout.JAVA_BYTE, p, (byte) (118 + rnd.nextInt(12)));
            }
        }
        return s;
    }

    static float[] reference(DType t, MemorySegment w, int rows, int cols, float[] x, double[] absSum) {
        float[] y = new float[rows];
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            Dequantize.row(t, w, r * t.rowBytes(cols), row, 0, cols);
            double s = 0;
            double a = 0;
            for (int c = 0; c < cols; c++) {
                s += (double) row[c] * x[c];
                a += Math.abs((double) row[c] * x[c]);
            }
            y[r] = (float) s;
            absSum[r] = a;
        }
        return y;
    }

    private static void assertClose(DType t, float[] ref, double[] abs, float[] y, String what) {
        for (int r = 0; r < ref.length; r++) {
            double tol = 1e-5 * abs[r] + 1e-30;
            assertTrue(Math.abs(y[r] - ref[r]) <= tol, t + " " + what + " row " + r + ": " + y[r] + " vs " + ref[r]
                    + " (tolerance " + tol + ")");
        }
    }

    static float[] randomX(Random rnd, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        return x;
    }

    @ParameterizedTest
    @MethodSource("quantised")
    void vectorMatchesTheScalarReferenceOnRandomBlocks(DType t) {
        Random rnd = new Random(t.ordinal() * 31L + 7);
        try (Arena arena = Arena.ofConfined()) {
            for (int cols : new int[]{256, 768, 2048}) {
                int rows = 37;
                MemorySegment w = randomBlocks(arena, t, rows, cols, rnd);
                float[] x = randomX(rnd, cols);
                double[] abs = new double[rows];
                float[] ref = reference(t, w, rows, cols, x, abs);
                float[] y = new float[rows];
                QuantMatVec.matvec(t, w, rows, cols, x, 0, y, 0, 0, rows);
                assertClose(t, ref, abs, y, "cols " + cols);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("quantised")
    void vectorMatchesTheReferenceOnQuantisedGaussians(DType t) {
        Random rnd = new Random(t.ordinal() + 100L);
        int rows = 24;
        int cols = 512;
        try (Arena arena = Arena.ofConfined()) {
            float[] v = randomX(rnd, rows * cols);
            MemorySegment w = Quantize.tensor(arena, t, v);
            float[] x = randomX(rnd, cols + 3);
            double[] abs = new double[rows];
            float[] xs = Arrays.copyOfRange(x, 3, cols + 3);
            float[] ref = reference(t, w, rows, cols, xs, abs);
            float[] y = new float[rows + 5];
            QuantMatVec.matvec(t, w, rows, cols, x, 3, y, 5, 0, rows);
            assertClose(t, ref, abs, Arrays.copyOfRange(y, 5, rows + 5), "offsets");
        }
    }

    @ParameterizedTest
    @MethodSource("quantised")
    void rowRangesGiveTheSameBitsAndWarmRunsTooAsCold(DType t) {
        Random rnd = new Random(t.ordinal() + 999L);
        int rows = 40;
        int cols = 512;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment w = randomBlocks(arena, t, rows, cols, rnd);
            float[] x = randomX(rnd, cols);
            float[] cold = new float[rows];
            QuantMatVec.matvec(t, w, rows, cols, x, 0, cold, 0, 0, rows);
            float[] split = new float[rows];
            QuantMatVec.matvec(t, w, rows, cols, x, 0, split, 0, 0, 13);
            QuantMatVec.matvec(t, w, rows, cols, x, 0, split, 0, 13, 40);
            assertArrayEquals(cold, split, "a row does not depend on the range it is computed in");
            float[] warm = new float[rows];
            for (int i = 0; i < 1500; i++) {
                QuantMatVec.matvec(t, w, rows, cols, x, 0, warm, 0, 0, rows);
            }
            assertArrayEquals(cold, warm, "same bits after the JIT compiled the kernel");
        }
    }

    @Test
    void tensorViewEntryPointAndBadShapes() {
        Random rnd = new Random(5);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment w = randomBlocks(arena, DType.Q4_K, 4, 256, rnd);
            float[] x = randomX(rnd, 256);
            float[] a = new float[4];
            float[] b = new float[4];
            QuantMatVec.INSTANCE.apply(new TensorView("w", w, DType.Q4_K, new long[]{4, 256}, Layout.ROW), x, a);
            QuantMatVec.matvec(DType.Q4_K, w, 4, 256, x, 0, b, 0, 0, 4);
            assertArrayEquals(b, a);
            var e = assertThrows(IllegalArgumentException.class, () -> QuantMatVec.INSTANCE.apply(
                    new TensorView("w", w, DType.Q4_K, new long[]{4, 256}, Layout.COLUMN), x, a));
            assertTrue(e.getMessage().contains("row-major"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> QuantMatVec.matvec(DType.Q4_K, w, 4, 200, x, 0, b, 0, 0, 4));
            assertTrue(e.getMessage().contains("not a whole number of 256-element blocks"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> QuantMatVec.matvec(DType.Q4_K, w, 5, 256, x, 0, new float[5], 0, 0, 5));
            assertTrue(e.getMessage().contains("need 720"), e.getMessage());
            assertEquals(4, a.length);
        }
    }
}
