package io.strata.kernels.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.core.model.DType;
import io.strata.core.model.Layout;
import io.strata.core.weights.TensorView;
import io.strata.kernels.cpu.MatVec;
import io.strata.kernels.cpu.TilesOff;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The batched quantised matvec ({@link QuantMatVec#applyBatch}, rows unpacked once for all inputs) gives every
 * input the bits of the single-vector kernel, for every block type, batch sizes that do and do not fill its
 * four-input passes, row counts that are not a multiple of its row blocks, row ranges, strided and offset
 * inputs and outputs, rows padded to whole blocks, and after the JIT has compiled both paths. With the K-quants'
 * tile form off: where it runs (AMX), a batch's bits are the tile arithmetic's instead (KQuantTilesTest).
 */
@ExtendWith(TilesOff.class)
class QuantMatVecBatchTest {
    private static final int[] COUNTS = {1, 2, 3, 7, 128};

    /** y of input i at yOff + i * yStride; unwritten slots keep NaN, so a stray write shows. */
    private static float[] batch(QuantMatVec k, TensorView w, float[] x, int xOff, int xStride, int count, int yOff,
                                 int yStride, int from, int to) {
        float[] y = new float[yOff + count * yStride];
        Arrays.fill(y, Float.NaN);
        k.applyBatch(w, x, xOff, xStride, count, y, yOff, yStride, from, to);
        return y;
    }

    private static void assertSameBits(QuantMatVec k, TensorView w, float[] x, int xOff, int xStride, int count,
                                       int yOff, int yStride, int from, int to, float[] y, String where) {
        float[] one = new float[Math.toIntExact(w.rows())];
        for (int i = 0; i < count; i++) {
            k.apply(w, x, xOff + i * xStride, one, 0, from, to);
            for (int r = 0; r < w.rows(); r++) {
                float got = y[yOff + i * yStride + r];
                if (r >= from && r < to) {
                    if (Float.floatToRawIntBits(got) != Float.floatToRawIntBits(one[r])) {
                        throw new AssertionError(w.dtype() + " " + k.arithmetic() + " " + where + ": input " + i + " row " + r + " batched "
                                + got + " single " + one[r]);
                    }
                } else {
                    assertTrue(Float.isNaN(got), w.dtype() + " " + where + ": row " + r + " outside the range written");
                }
            }
        }
    }

    static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> typesAndArithmetics() {
        return QuantMatVecTest.quantised().flatMap(t -> java.util.stream.Stream.of(QuantArithmetic.values())
                .map(a -> org.junit.jupiter.params.provider.Arguments.of(t, a)));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("typesAndArithmetics")
    void batchedRowsHaveTheBitsOfSingleVectorRows(DType t, QuantArithmetic a) {
        QuantMatVec k = QuantMatVec.of(a);
        Random rnd = new Random(t.ordinal() * 17L + 3);
        try (Arena arena = Arena.ofConfined()) {
            // 256 columns: 64-row blocks (150 = 64 + 64 + 22); 2048: 8-row blocks (37 = 4 x 8 + 5)
            for (int[] shape : new int[][]{{150, 256}, {37, 2048}}) {
                int rows = shape[0];
                int cols = shape[1];
                MemorySegment seg = QuantMatVecTest.randomBlocks(arena, t, rows, cols, rnd);
                TensorView w = new TensorView("w", seg, t, new long[]{rows, cols}, Layout.ROW);
                for (int count : COUNTS) {
                    int xStride = cols + 5;
                    float[] x = QuantMatVecTest.randomX(rnd, 3 + count * xStride);
                    String where = rows + "x" + cols + ", " + count + " inputs";
                    float[] y = batch(k, w, x, 3, xStride, count, 2, rows + 1, 0, rows);
                    assertSameBits(k, w, x, 3, xStride, count, 2, rows + 1, 0, rows, y, where);
                    for (int[] range : new int[][]{{5, rows - 3}, {1, 2}, {rows / 3, 2 * rows / 3}, {2 * rows / 3, rows}}) {
                        y = batch(k, w, x, 3, xStride, count, 0, rows, range[0], range[1]);
                        assertSameBits(k, w, x, 3, xStride, count, 0, rows, range[0], range[1], y, where + ", rows "
                                + Arrays.toString(range));
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("typesAndArithmetics")
    void rowsPaddedToWholeBlocksAndWarmRuns(DType t, QuantArithmetic a) {
        QuantMatVec k = QuantMatVec.of(a);
        Random rnd = new Random(t.ordinal() + 4242L);
        int rows = 21;
        int cols = t.blockSize() * 3 - 8; // stored as 3 blocks per row, the last 8 elements padding
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = QuantMatVecTest.randomBlocks(arena, t, rows, t.blockSize() * 3, rnd);
            TensorView w = new TensorView("w", seg, t, new long[]{rows, cols}, Layout.ROW);
            float[] x = QuantMatVecTest.randomX(rnd, 7 * cols);
            float[] cold = batch(k, w, x, 0, cols, 7, 0, rows, 0, rows);
            assertSameBits(k, w, x, 0, cols, 7, 0, rows, 0, rows, cold, "padded rows");
            float[] warm = null;
            for (int i = 0; i < 400; i++) {
                warm = batch(k, w, x, 0, cols, 7, 0, rows, 0, rows);
            }
            assertSameBits(k, w, x, 0, cols, 7, 0, rows, 0, rows, warm, "padded rows, warm");
        }
    }

    @Test
    void gateUpBatchEqualsSingleGateUp() {
        Random rnd = new Random(11);
        try (Arena arena = Arena.ofConfined()) {
            int rows = 70;
            int cols = 512;
            TensorView w1 = new TensorView("w1", QuantMatVecTest.randomBlocks(arena, DType.Q4_K, rows, cols, rnd),
                    DType.Q4_K, new long[]{rows, cols}, Layout.ROW);
            TensorView w3 = new TensorView("w3", QuantMatVecTest.randomBlocks(arena, DType.Q4_K, rows, cols, rnd),
                    DType.Q4_K, new long[]{rows, cols}, Layout.ROW);
            int count = 5;
            float[] x = QuantMatVecTest.randomX(rnd, count * cols);
            float[] gate = new float[count * rows];
            float[] up = new float[count * rows];
            QuantMatVec.INSTANCE.applyGateUpBatch(w1, w3, x, 0, cols, count, gate, up, 0, rows, 0, rows);
            MatVec kernel = QuantMatVec.INSTANCE;
            for (int i = 0; i < count; i++) {
                float[] g = new float[rows];
                float[] u = new float[rows];
                kernel.applyGateUp(w1, w3, x, i * cols, g, 0, u, 0, 0, rows);
                for (int r = 0; r < rows; r++) {
                    assertEquals(Float.floatToRawIntBits(g[r]), Float.floatToRawIntBits(gate[i * rows + r]),
                            "gate " + i + "," + r);
                    assertEquals(Float.floatToRawIntBits(u[r]), Float.floatToRawIntBits(up[i * rows + r]),
                            "up " + i + "," + r);
                }
            }
        }
    }

    @Test
    void badBatchesAreRefusedNamingTheWeight() {
        Random rnd = new Random(2);
        try (Arena arena = Arena.ofConfined()) {
            TensorView w = new TensorView("blk.0.ffn_up", QuantMatVecTest.randomBlocks(arena, DType.Q8_0, 4, 64, rnd),
                    DType.Q8_0, new long[]{4, 64}, Layout.ROW);
            float[] x = new float[64 * 3 - 1];
            float[] y = new float[12];
            var e = assertThrows(IllegalArgumentException.class,
                    () -> QuantMatVec.INSTANCE.applyBatch(w, x, 0, 64, 3, y, 0, 4, 0, 4));
            assertTrue(e.getMessage().contains("blk.0.ffn_up") && e.getMessage().contains("input 2"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> QuantMatVec.INSTANCE.applyBatch(w, new float[192], 0, 64, 3, y, 0, 4, 0, 5));
            assertTrue(e.getMessage().contains("do not fit 4 rows"), e.getMessage());
        }
    }
}
