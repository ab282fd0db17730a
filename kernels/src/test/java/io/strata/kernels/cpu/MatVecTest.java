package io.strata.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.strata.core.model.DType;
import io.strata.core.model.Layout;
import io.strata.core.weights.TensorView;
import java.lang.foreign.Arena;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class MatVecTest {
    private static final int[][] SHAPES = {{1, 1}, {3, 5}, {17, 33}, {31, 64}, {64, 47}, {130, 257}, {33, 130},
        {80, 2}, {2, 96}};

    static Stream<Arguments> cases() {
        Stream.Builder<Arguments> b = Stream.builder();
        for (DType t : new DType[] {DType.F32, DType.BF16, DType.F16}) {
            for (Layout l : Layout.values()) {
                for (int[] s : SHAPES) {
                    b.add(Arguments.of(t, l, s[0], s[1]));
                }
            }
        }
        return b.build();
    }

    @ParameterizedTest(name = "{0} {1} {2}x{3}")
    @MethodSource("cases")
    void vectorAndScalarAgreeWithExactProduct(DType dtype, Layout layout, int rows, int cols) {
        Random rnd = new Random(rows * 31L + cols);
        try (Arena arena = Arena.ofConfined()) {
            Tensors.Weight w = Tensors.random(arena, rnd, dtype, layout, rows, cols);
            float[] x = Tensors.gaussian(rnd, cols + 3);
            double[][] exact = Tensors.exact(w.values(), x, 3);
            float[] yv = new float[rows + 2];
            float[] ys = new float[rows + 2];
            MatVec.vector().apply(w.view(), x, 3, yv, 2);
            MatVec.scalar().apply(w.view(), x, 3, ys, 2);
            for (int r = 0; r < rows; r++) {
                double tol = 1e-6 * exact[1][r] * Math.sqrt(cols) + 1e-7;
                assertEquals(exact[0][r], ys[r + 2], tol, "scalar row " + r);
                assertEquals(exact[0][r], yv[r + 2], tol, "vector row " + r);
            }
            assertEquals(0f, yv[0]);
            assertEquals(0f, yv[1]);
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("layouts")
    void tensorParallelSlicesRecombineToTheFullProduct(DType dtype, Layout layout) {
        int rows = 96;
        int cols = 80;
        Random rnd = new Random(7);
        try (Arena arena = Arena.ofConfined()) {
            Tensors.Weight full = Tensors.random(arena, rnd, dtype, layout, rows, cols);
            float[] x = Tensors.gaussian(rnd, cols);
            float[] want = new float[rows];
            MatVec.vector().apply(full.view(), x, want);
            // Column-parallel (slice of the output dim): each rank writes its rows of y.
            float[] y = new float[rows];
            for (int rank = 0; rank < 2; rank++) {
                TensorView part = slice(arena, full.values(), dtype, layout, rank * 48, 48, 0, cols);
                MatVec.vector().apply(part, x, 0, y, rank * 48);
            }
            assertArrayEquals(want, y, 1e-4f);
            // Row-parallel (slice of the input dim): each rank reads its part of x, partial sums add up.
            float[] sum = new float[rows];
            for (int rank = 0; rank < 4; rank++) {
                TensorView part = slice(arena, full.values(), dtype, layout, 0, rows, rank * 20, 20);
                float[] partial = new float[rows];
                MatVec.vector().apply(part, x, rank * 20, partial, 0);
                for (int r = 0; r < rows; r++) {
                    sum[r] += partial[r];
                }
            }
            assertArrayEquals(want, sum, 1e-4f);
        }
    }

    static Stream<Arguments> layouts() {
        return Stream.of(DType.F32, DType.BF16).flatMap(t -> Stream.of(Layout.values()).map(l -> Arguments.of(t, l)));
    }

    private static TensorView slice(Arena arena, float[][] v, DType t, Layout layout, int r0, int nr, int c0, int nc) {
        var seg = arena.allocate((long) nr * nc * t.byteSize(), 64);
        for (int r = 0; r < nr; r++) {
            for (int c = 0; c < nc; c++) {
                FloatCodec.set(seg, t, layout == Layout.ROW ? (long) r * nc + c : (long) c * nr + r, v[r0 + r][c0 + c]);
            }
        }
        return new TensorView("slice", seg, t, new long[] {nr, nc}, layout);
    }

    @Test
    void parallelSplitIsBitIdenticalToSingleThread() {
        Random rnd = new Random(3);
        for (Arena arena : new Arena[] {Arena.ofShared(), Arena.ofConfined()}) {
            for (DType t : new DType[] {DType.F32, DType.BF16}) {
                for (Layout l : Layout.values()) {
                    Tensors.Weight w = Tensors.random(arena, rnd, t, l, 700, 512);
                    float[] x = Tensors.gaussian(rnd, 512);
                    float[] a = new float[700];
                    float[] b = new float[700];
                    MatVec.vector().apply(w.view(), x, a);
                    MatVec.vector(3).apply(w.view(), x, b);
                    assertArrayEquals(a, b, t + " " + l);
                }
            }
            arena.close();
        }
    }

    @ParameterizedTest(name = "{0} {1} {2}x{3}")
    @MethodSource("cases")
    void batchedAndGateUpFormsAreBitIdenticalToOneMatvecPerInput(DType dtype, Layout layout, int rows, int cols) {
        Random rnd = new Random(rows * 7L + cols);
        int count = 5;
        try (Arena arena = Arena.ofShared()) {
            Tensors.Weight w1 = Tensors.random(arena, rnd, dtype, layout, rows, cols);
            Tensors.Weight w3 = Tensors.random(arena, rnd, dtype, layout, rows, cols);
            int xStride = cols + 3;
            int yStride = rows + 1;
            float[] x = Tensors.gaussian(rnd, 2 + count * xStride);
            for (MatVec mv : new MatVec[] {MatVec.vector(), MatVec.scalar(), MatVec.vector(3)}) {
                float[] y = new float[1 + count * yStride];
                float[] gate = new float[1 + count * yStride];
                float[] up = new float[1 + count * yStride];
                mv.applyBatch(w1.view(), x, 2, xStride, count, y, 1, yStride, 0, rows);
                mv.applyGateUpBatch(w1.view(), w3.view(), x, 2, xStride, count, gate, up, 1, yStride, 0, rows);
                for (int t = 0; t < count; t++) {
                    float[] one = new float[rows];
                    float[] three = new float[rows];
                    MatVec.vector().apply(w1.view(), x, 2 + t * xStride, one, 0);
                    MatVec.vector().apply(w3.view(), x, 2 + t * xStride, three, 0);
                    if (mv == MatVec.scalar()) {
                        MatVec.scalar().apply(w1.view(), x, 2 + t * xStride, one, 0);
                        MatVec.scalar().apply(w3.view(), x, 2 + t * xStride, three, 0);
                    }
                    float[] g1 = new float[rows];
                    float[] u1 = new float[rows];
                    mv.applyGateUp(w1.view(), w3.view(), x, 2 + t * xStride, g1, 0, u1, 0, 0, rows);
                    for (int r = 0; r < rows; r++) {
                        String at = mv + " input " + t + " row " + r;
                        assertEquals(Float.floatToRawIntBits(one[r]), Float.floatToRawIntBits(y[1 + t * yStride + r]), at);
                        assertEquals(Float.floatToRawIntBits(three[r]), Float.floatToRawIntBits(up[1 + t * yStride + r]), at);
                        float g = SwiGlu.silu(one[r]) * three[r];
                        assertEquals(Float.floatToRawIntBits(g), Float.floatToRawIntBits(gate[1 + t * yStride + r]), at);
                        assertEquals(Float.floatToRawIntBits(g), Float.floatToRawIntBits(g1[r]), at);
                    }
                }
                assertEquals(0f, y[0]);
            }
        }
    }

    @Test
    void parallelBatchAndGateUpAreBitIdenticalToSingleThread() {
        Random rnd = new Random(5);
        try (Arena arena = Arena.ofShared()) {
            for (DType t : new DType[] {DType.F32, DType.BF16, DType.F16}) {
                for (Layout l : Layout.values()) {
                    Tensors.Weight w1 = Tensors.random(arena, rnd, t, l, 700, 512);
                    Tensors.Weight w3 = Tensors.random(arena, rnd, t, l, 700, 512);
                    float[] x = Tensors.gaussian(rnd, 3 * 512);
                    float[][] single = new float[3][3 * 700];
                    float[][] parallel = new float[3][3 * 700];
                    MatVec[] kernels = {MatVec.vector(), MatVec.vector(3)};
                    for (int k = 0; k < 2; k++) {
                        float[][] out = k == 0 ? single : parallel;
                        kernels[k].applyBatch(w1.view(), x, 0, 512, 3, out[0], 0, 700, 0, 700);
                        kernels[k].applyGateUpBatch(w1.view(), w3.view(), x, 0, 512, 3, out[1], out[2], 0, 700, 0, 700);
                    }
                    for (int k = 0; k < 3; k++) {
                        assertArrayEquals(single[k], parallel[k], t + " " + l + " output " + k);
                    }
                }
            }
        }
    }

    @Test
    void rejectsMismatchedShapesWithTensorName() {
        try (Arena arena = Arena.ofConfined()) {
            Tensors.Weight w = Tensors.random(arena, new Random(1), DType.F32, Layout.ROW, 4, 8);
            var e = assertThrows(IllegalArgumentException.class,
                    () -> MatVec.vector().apply(w.view(), new float[7], new float[4]));
            assertEquals(true, e.getMessage().startsWith("w4x8"));
        }
    }
}
