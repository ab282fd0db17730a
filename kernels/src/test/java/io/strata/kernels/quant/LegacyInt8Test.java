package io.strata.kernels.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.strata.core.model.DType;
import io.strata.kernels.cpu.CpuKernels;
import io.strata.kernels.cpu.NativeLegacyInt8;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link LegacyInt8} (int8-activation matvecs of the legacy block types): the native kernels against the Java
 * ones bit for bit (block counts below, at and past 16-block groups, row ranges, offsets, heap and unaligned
 * weights, scales over the whole f16 range, inputs over many binades with zeros); the batch form against the
 * single form bit for bit; closeness to the exact product within a bound from the quantisation steps; llama.cpp's
 * quantisation of x and one block's dot product worked by hand; and no allocation per call.
 */
class LegacyInt8Test {
    private static final int[] BLOCKS = {1, 3, 4, 15, 16, 17, 33, 50};
    private static final int[] ROWS = {1, 2, 7, 33};
    private CpuKernels before;

    @BeforeEach
    void remember() {
        before = CpuKernels.active();
    }

    @AfterEach
    void restore() {
        CpuKernels.use(before);
    }

    private static boolean nativeAvailable() {
        return CpuKernels.nativeUnavailable().isEmpty() && NativeLegacyInt8.unavailable() == null;
    }

    private static void requireNative() {
        assumeTrue(nativeAvailable(), "native kernels unavailable: "
                + CpuKernels.nativeUnavailable().orElse(NativeLegacyInt8.unavailable()));
    }

    /** QuantMatVecTest's random blocks at byte {@code skew}, f16 fields random finite f16s when {@code extreme}. */
    static MemorySegment weight(Arena arena, DType t, int rows, int cols, Random rnd, int skew, boolean heap,
                                boolean extreme) {
        MemorySegment blocks = QuantMatVecTest.randomBlocks(arena, t, rows, cols, rnd);
        long n = blocks.byteSize();
        MemorySegment whole = heap ? MemorySegment.ofArray(new byte[Math.toIntExact(n + skew)])
                : arena.allocate(n + skew, 64);
        MemorySegment w = whole.asSlice(skew, n);
        w.copyFrom(blocks);
        if (extreme) {
            int[] f16 = t == DType.Q4_1 || t == DType.Q5_1 ? new int[] {0, 2} : new int[] {0};
            for (long p = 0; p < n; p += t.blockBytes()) {
                for (int o : f16) {
                    int bits;
                    do {
                        bits = rnd.nextInt(1 << 16);
                    } while ((bits & 0x7C00) == 0x7C00);
                    w.set(Dequantize.I16, p + o, (short) bits);
                }
            }
        }
        return w;
    }

    static float[] input(Random rnd, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            int k = rnd.nextInt(16);
            x[i] = k == 0 ? 0f : k == 1 ? -0f : (float) (rnd.nextGaussian() * Math.pow(2, rnd.nextInt(40) - 20));
        }
        // some whole blocks of zeros (d = 0, id = 0) and of one repeated value (every code 127)
        for (int b = 0; b + 32 <= n; b += 32 * 5) {
            Arrays.fill(x, b, b + 32, (b / 32) % 2 == 0 ? 0f : -1.5f);
        }
        return x;
    }

    private static float[] run(CpuKernels k, Consumer<float[]> call, int n) {
        CpuKernels.use(k);
        float[] y = new float[n];
        float[] first = null;
        for (int i = 0; i < 3; i++) {
            Arrays.fill(y, Float.NaN);
            call.accept(y);
            if (i == 0) {
                first = y.clone();
            }
        }
        assertBits(first, y, k + ": first and third call");
        return y;
    }

    private static void assertBits(float[] want, float[] got, String what) {
        for (int i = 0; i < want.length; i++) {
            if (Float.floatToRawIntBits(want[i]) != Float.floatToRawIntBits(got[i])) {
                throw new AssertionError(what + ": output " + i + " is " + got[i] + " (0x"
                        + Integer.toHexString(Float.floatToRawIntBits(got[i])) + "), want " + want[i] + " (0x"
                        + Integer.toHexString(Float.floatToRawIntBits(want[i])) + ")");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"Q8_0", "Q4_0", "Q5_0", "Q4_1", "Q5_1"})
    void nativeMatchesJavaBitForBit(DType t) {
        requireNative();
        assertTrue(LegacyInt8.supports(t));
        Random rnd = new Random(t.ordinal() * 131L + 5);
        assertTrue(nativeRuns(t), t + ": the native kernel ran (did not hand back to Java)");
        int checked = 0;
        try (Arena arena = Arena.ofConfined()) {
            for (int nb : BLOCKS) {
                int cols = nb * 32;
                long rowBytes = t.rowBytes(cols);
                for (int rows : ROWS) {
                    for (int variant = 0; variant < 2; variant++) {
                        boolean extreme = variant == 1;
                        MemorySegment w = weight(arena, t, rows, cols, rnd, rows % 3, rows == 7, extreme);
                        int xOff = (cols + rows) % 7;
                        float[] x = input(rnd, cols + xOff + 2);
                        int[][] ranges = {{0, rows}, {rows / 2, rows}, {rows - 1, rows}, {0, (rows + 1) / 2},
                            {rows / 3, rows / 3}};
                        for (int[] r : ranges) {
                            String what = t + " " + rows + "x" + cols + (extreme ? " extreme scales" : "")
                                    + " rows [" + r[0] + ", " + r[1] + ")";
                            Consumer<float[]> call = y -> LegacyInt8.rows(t, w, rowBytes, nb, x, xOff, y, 2, r[0],
                                    r[1]);
                            assertBits(run(CpuKernels.JAVA, call, rows + 3), run(CpuKernels.NATIVE, call, rows + 3),
                                    what);
                            checked++;
                        }
                    }
                }
            }
        }
        assertEquals(BLOCKS.length * ROWS.length * 2 * 5, checked);
    }

    /** Whether the native kernel runs for t here (returns true rather than leaving the call to Java). */
    private static boolean nativeRuns(DType t) {
        CpuKernels.use(CpuKernels.NATIVE);
        try (Arena arena = Arena.ofConfined()) {
            int nb = 17;
            MemorySegment w = QuantMatVecTest.randomBlocks(arena, t, 2, nb * 32, new Random(1));
            MemorySegment q = arena.allocate(Q8Activations.inputBytes(nb), 64);
            Q8Activations.quantize(QuantMatVecTest.randomX(new Random(2), nb * 32), 0, nb, q, 0);
            float[] y = new float[2];
            return NativeLegacyInt8.run(t, w, t.rowBytes(nb * 32), nb, q, q.byteSize(), 1, y, 0, 0, 0, 2);
        }
    }

    /** The batch form gives each input the bits of the single form, in Java and natively (where available). */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"Q8_0", "Q4_0", "Q5_0", "Q4_1", "Q5_1"})
    void batchMatchesRowsBitForBit(DType t) {
        Random rnd = new Random(t.ordinal() * 17L + 3);
        CpuKernels[] kinds = nativeAvailable() ? new CpuKernels[] {CpuKernels.JAVA, CpuKernels.NATIVE}
                : new CpuKernels[] {CpuKernels.JAVA};
        try (Arena arena = Arena.ofConfined()) {
            for (int nb : new int[] {3, 16, 37, 128}) {
                int cols = nb * 32;
                long rowBytes = t.rowBytes(cols);
                int rows = nb == 128 ? 300 : 21; // 300 rows of 128 blocks: more than one tile
                MemorySegment w = weight(arena, t, rows, cols, rnd, 1, false, nb == 37);
                for (int count : new int[] {1, 2, 5, 32}) {
                    int xStride = cols + 3;
                    int yStride = rows + 4;
                    float[] x = input(rnd, 5 + count * xStride);
                    int from = rows / 5;
                    int to = rows - 1;
                    for (CpuKernels k : kinds) {
                        CpuKernels.use(k);
                        float[] single = new float[1 + count * yStride];
                        float[] batch = new float[single.length];
                        for (int pass = 0; pass < 2; pass++) { // the first call stages y natively, the second not
                            Arrays.fill(single, Float.NaN);
                            Arrays.fill(batch, Float.NaN);
                            for (int i = 0; i < count; i++) {
                                LegacyInt8.rows(t, w, rowBytes, nb, x, 5 + i * xStride, single, 1 + i * yStride,
                                        from, to);
                            }
                            LegacyInt8.batch(t, w, rowBytes, nb, x, 5, xStride, count, batch, 1, yStride, from, to);
                            assertBits(single, batch, t + " " + k + " batch of " + count + ", " + rows + "x" + cols);
                        }
                    }
                }
            }
        }
    }

    /**
     * Against the exact product of the dequantised weight and the unquantised x: per block the error is at most
     * sum_j |v_j| dw (d / 2 + |x_j| 2^-10) (x's codes are off by half a step d, its scale rounded to f16), plus for
     * Q4_1/Q5_1 |mw| (16 d + |s| 2^-10) (the f16 sum s of the codes against the sum of x), plus float rounding.
     */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"Q8_0", "Q4_0", "Q5_0", "Q4_1", "Q5_1"})
    void closeToTheFloatProduct(DType t) {
        Random rnd = new Random(t.ordinal() + 4242L);
        int rows = 17;
        int nb = 40;
        int cols = nb * 32;
        long rowBytes = t.rowBytes(cols);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment w = QuantMatVecTest.randomBlocks(arena, t, rows, cols, rnd);
            float[] x = QuantMatVecTest.randomX(rnd, cols);
            float[] y = new float[rows];
            LegacyInt8.rows(t, w, rowBytes, nb, x, 0, y, 0, 0, rows);
            float[] row = new float[cols];
            double worst = 0;
            for (int r = 0; r < rows; r++) {
                Dequantize.row(t, w, r * rowBytes, row, 0, cols);
                double exact = 0;
                double bound = 0;
                double abs = 0;
                for (int b = 0; b < nb; b++) {
                    double amax = 0;
                    double s = 0;
                    for (int j = 0; j < 32; j++) {
                        amax = Math.max(amax, Math.abs(x[32 * b + j]));
                    }
                    double d = amax / 127;
                    long p = r * rowBytes + (long) b * t.blockBytes();
                    double m = t == DType.Q4_1 || t == DType.Q5_1 ? Dequantize.f16(w, p + 2) : 0;
                    for (int j = 0; j < 32; j++) {
                        int c = 32 * b + j;
                        double v = row[c] - m; // the weight's d * code part
                        exact += (double) row[c] * x[c];
                        abs += Math.abs((double) row[c] * x[c]);
                        bound += Math.abs(v) * (d / 2 + Math.abs(x[c]) * 0x1p-10);
                        s += Math.abs(x[c]) + d;
                    }
                    bound += Math.abs(m) * (16 * d + s * 0x1p-10);
                }
                bound += abs * 1e-5 + 1e-30;
                double err = Math.abs(y[r] - exact);
                assertTrue(err <= bound, t + " row " + r + ": " + y[r] + " vs exact " + exact + ", error " + err
                        + " over the bound " + bound);
                worst = Math.max(worst, err / bound);
            }
            // the bound is not vacuous: the quantisation error is a visible fraction of it
            assertTrue(worst > 1e-3, t + ": error at most " + worst + " of the bound");
        }
    }

    /** ggml's quantize_row_q8_0_ref/q8_1_ref on one block, by hand: d = amax / 127, roundf halves away from 0. */
    @Test
    void quantisesXAsLlamaCpp() {
        float[] x = new float[32];
        float[] v = {254f, 3f, -3f, 5f, -5f, 1f, -1f, 0.99f, -0f, 2.98f};
        System.arraycopy(v, 0, x, 0, v.length);
        x[16] = -7f; // second half
        x[31] = 253f;
        // d = 254 / 127 = 2, id = 0.5: 127, 1.5 -> 2, -1.5 -> -2, 2.5 -> 3, -2.5 -> -3, 0.5 -> 1, -0.5 -> -1,
        // 0.495 -> 0, -0 -> 0, 1.49 -> 1; -3.5 -> -4, 126.5 -> 127
        int[] want = new int[32];
        int[] w0 = {127, 2, -2, 3, -3, 1, -1, 0, 0, 1};
        System.arraycopy(w0, 0, want, 0, w0.length);
        want[16] = -4;
        want[31] = 127;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment q = arena.allocate(Q8Activations.inputBytes(1), 64);
            q.fill((byte) 0x55);
            Q8Activations.quantize(x, 0, 1, q, 0);
            int sum = 0;
            for (int j = 0; j < 32; j++) {
                assertEquals(want[j], q.get(ValueLayout.JAVA_BYTE, Q8Activations.code(0, j)), "code " + j);
                sum += want[j];
            }
            assertEquals(2f, q.get(Q8Activations.F32, Q8Activations.dOffset(1)));
            assertEquals(sum, q.get(Q8Activations.I32, Q8Activations.sumOffset(1)));
            assertEquals(Float.float16ToFloat(Float.floatToFloat16(sum * 2f)),
                    q.get(Q8Activations.F32, Q8Activations.sOffset(1)));
            // the other 15 blocks of the 16-block group are zero codes
            for (int b = 1; b < 16; b++) {
                for (int j = 0; j < 32; j++) {
                    assertEquals(0, q.get(ValueLayout.JAVA_BYTE, Q8Activations.code(b, j)), "padding");
                }
            }
        }
        int[] ref = Q8Activations.referenceBlock(x, 0);
        for (int j = 0; j < 32; j++) {
            assertEquals(want[j], ref[j]);
        }
    }

    /**
     * The vectorised quantiser against the scalar transcription of quantize_row_q8_1_ref on random blocks:
     * many binades, zeros, and blocks where x * id lands on halves (ties go away from zero).
     */
    @Test
    void vectorQuantiserMatchesTheScalarReference() {
        Random rnd = new Random(99);
        int nb = 200;
        float[] x = input(rnd, 32 * nb);
        for (int b = 1; b < nb; b += 3) { // amax 127: d = 1, id = 1, codes are x rounded: ties at k + 0.5
            x[32 * b] = 127f;
            for (int j = 1; j < 32; j++) {
                x[32 * b + j] = (rnd.nextInt(253) - 126) + (rnd.nextBoolean() ? 0.5f : 0f);
            }
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment q = arena.allocate(Q8Activations.inputBytes(nb), 64);
            Q8Activations.quantize(x, 0, nb, q, 0);
            for (int b = 0; b < nb; b++) {
                int[] ref = Q8Activations.referenceBlock(x, 32 * b);
                int sum = 0;
                for (int j = 0; j < 32; j++) {
                    assertEquals(ref[j], q.get(ValueLayout.JAVA_BYTE, Q8Activations.code(b, j)),
                            "block " + b + " element " + j + " (x " + x[32 * b + j] + ")");
                    sum += ref[j];
                }
                assertEquals(Float.float16ToFloat((short) ref[32]), q.get(Q8Activations.F32,
                        Q8Activations.dOffset(nb) + 4L * b), "d of block " + b);
                assertEquals(Float.float16ToFloat((short) ref[33]), q.get(Q8Activations.F32,
                        Q8Activations.sOffset(nb) + 4L * b), "s of block " + b);
                assertEquals(sum, q.get(Q8Activations.I32, Q8Activations.sumOffset(nb) + 4L * b));
            }
        }
    }

    /**
     * One block of each kind worked by hand, as ggml_vec_dot_q8_0_q8_0 / q4_0_q8_0 / q4_1_q8_1 compute it:
     * x = 2 * (j - 16) for j > 0, x_0 = 254 (d = 2, codes x / 2 exactly), weight d = 0.5 (m = 0.25).
     */
    @Test
    void oneBlockByHand() {
        float[] x = new float[32];
        int[] qx = new int[32];
        for (int j = 0; j < 32; j++) {
            qx[j] = j == 0 ? 127 : j - 16;
            x[j] = 2 * qx[j];
        }
        int sumQx = Arrays.stream(qx).sum();
        for (CpuKernels k : nativeAvailable() ? new CpuKernels[] {CpuKernels.JAVA, CpuKernels.NATIVE}
                : new CpuKernels[] {CpuKernels.JAVA}) {
            CpuKernels.use(k);
            try (Arena arena = Arena.ofConfined()) {
                // Q8_0: codes w_j = 3 - j (down to -28)
                MemorySegment w = arena.allocate(34);
                w.set(Dequantize.I16, 0, Float.floatToFloat16(0.5f));
                long isum = 0;
                for (int j = 0; j < 32; j++) {
                    w.set(ValueLayout.JAVA_BYTE, 2 + j, (byte) (3 - j));
                    isum += (3 - j) * qx[j];
                }
                float[] y = new float[1];
                LegacyInt8.rows(DType.Q8_0, w, 34, 1, x, 0, y, 0, 0, 1);
                assertEquals((float) isum * (0.5f * 2f), y[0], k + " Q8_0");
                // Q4_0: byte j holds element j (low) = j % 16 and element 16 + j (high) = 15 - j
                MemorySegment w4 = arena.allocate(18);
                w4.set(Dequantize.I16, 0, Float.floatToFloat16(0.5f));
                long i4 = 0;
                for (int j = 0; j < 16; j++) {
                    w4.set(ValueLayout.JAVA_BYTE, 2 + j, (byte) ((j % 16) | (15 - j) << 4));
                    i4 += (long) (j - 8) * qx[j] + (long) (15 - j - 8) * qx[16 + j];
                }
                LegacyInt8.rows(DType.Q4_0, w4, 18, 1, x, 0, y, 0, 0, 1);
                assertEquals((float) i4 * (0.5f * 2f), y[0], k + " Q4_0");
                // Q4_1 with m = 0.25: (d_w d_x) sumi + m s, s = f16(d_x * sum of x codes)
                MemorySegment w41 = arena.allocate(20);
                w41.set(Dequantize.I16, 0, Float.floatToFloat16(0.5f));
                w41.set(Dequantize.I16, 2, Float.floatToFloat16(0.25f));
                long i41 = 0;
                for (int j = 0; j < 16; j++) {
                    w41.set(ValueLayout.JAVA_BYTE, 4 + j, (byte) ((j % 16) | (15 - j) << 4));
                    i41 += (long) j * qx[j] + (long) (15 - j) * qx[16 + j];
                }
                LegacyInt8.rows(DType.Q4_1, w41, 20, 1, x, 0, y, 0, 0, 1);
                float s = Float.float16ToFloat(Float.floatToFloat16(sumQx * 2f));
                assertEquals((float) i41 * (0.5f * 2f) + 0.25f * s, y[0], k + " Q4_1");
            }
        }
    }

    /** Many rows per call, after warm-up: what a call allocates (least over windows) is a few bytes, not per row. */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"Q8_0", "Q4_0", "Q5_0", "Q4_1", "Q5_1"})
    void noAllocationPerCall(DType t) {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        int rows = 2048;
        int nb = 32;
        int cols = nb * 32;
        long rowBytes = t.rowBytes(cols);
        CpuKernels[] kinds = nativeAvailable() ? new CpuKernels[] {CpuKernels.JAVA, CpuKernels.NATIVE}
                : new CpuKernels[] {CpuKernels.JAVA};
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment w = QuantMatVecTest.randomBlocks(arena, t, rows, cols, new Random(7));
            float[] x = QuantMatVecTest.randomX(new Random(8), 4 * cols);
            float[] y = new float[4 * rows];
            for (CpuKernels k : kinds) {
                CpuKernels.use(k);
                for (int i = 0; i < 300; i++) {
                    LegacyInt8.rows(t, w, rowBytes, nb, x, 0, y, 0, 0, rows);
                    LegacyInt8.batch(t, w, rowBytes, nb, x, 0, cols, 4, y, 0, rows, 0, rows);
                }
                long least = Long.MAX_VALUE;
                long deadline = System.nanoTime() + 20_000_000_000L;
                for (int window = 0; window < 6 || (least > 256 && System.nanoTime() < deadline); window++) {
                    long b = mx.getCurrentThreadAllocatedBytes();
                    for (int i = 0; i < 4; i++) {
                        LegacyInt8.rows(t, w, rowBytes, nb, x, 0, y, 0, 0, rows);
                        LegacyInt8.batch(t, w, rowBytes, nb, x, 0, cols, 4, y, 0, rows, 0, rows);
                    }
                    least = Math.min(least, (mx.getCurrentThreadAllocatedBytes() - b) / 4);
                }
                assertTrue(least <= 256, t + " (" + k + "): a rows + batch call pair over " + rows
                        + " rows allocated " + least + " bytes");
            }
        }
    }
}
