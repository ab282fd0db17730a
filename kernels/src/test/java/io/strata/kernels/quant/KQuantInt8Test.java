package io.strata.kernels.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.strata.core.model.DType;
import io.strata.kernels.cpu.CpuKernels;
import io.strata.kernels.cpu.NativeKQuantInt8;
import io.strata.kernels.cpu.TilesOff;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link KQuantInt8}, the int8-activation K-quant kernels: Java and native give the same bits (random blocks incl.
 * f16 scales over the whole range, row ranges, offsets, heap and unaligned weights); the batch form gives each
 * input the bits of the single form; the result is as close to the exact float dot product as the quantisation of
 * x allows (half a Q8_K step per element); the maths is llama.cpp's (a hand-computed case, and an independent
 * transcription of quantize_row_q8_K_ref / ggml_vec_dot_q*_K_q8_K's integer formulas); warm calls allocate nothing.
 */
@ExtendWith(TilesOff.class) // the batch form's bits are the rows kernel's: the tile form (KQuantTilesTest) off
class KQuantInt8Test {
    private static final int[] BLOCKS = {1, 2, 3, 5, 8};
    private static final int[] ROWS = {1, 2, 3, 7, 33};
    private CpuKernels before;

    @BeforeEach
    void remember() {
        before = CpuKernels.active();
    }

    @AfterEach
    void restore() {
        CpuKernels.use(before);
    }

    private static boolean nativeHere() {
        return CpuKernels.nativeUnavailable().isEmpty() && NativeKQuantInt8.unavailable() == null;
    }

    /** QuantMatVecTest's random blocks at byte skew of a heap or off-heap segment, f16 scales any finite value. */
    static MemorySegment weight(Arena arena, DType t, int rows, int cols, Random rnd, int skew, boolean heap,
                                boolean extreme) {
        MemorySegment blocks = QuantMatVecTest.randomBlocks(arena, t, rows, cols, rnd);
        long n = blocks.byteSize();
        MemorySegment whole = heap ? MemorySegment.ofArray(new byte[Math.toIntExact(n + skew)])
                : arena.allocate(n + skew, 64);
        MemorySegment w = whole.asSlice(skew, n);
        w.copyFrom(blocks);
        if (extreme) {
            int[] f16 = t == DType.Q6_K ? new int[] {208} : new int[] {0, 2};
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

    /** Inputs over many binades, zeros and negative zeros, and all-zero blocks now and then. */
    static float[] input(Random rnd, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            int k = rnd.nextInt(16);
            x[i] = k == 0 ? 0f : k == 1 ? -0f : (float) (rnd.nextGaussian() * Math.pow(2, rnd.nextInt(40) - 20));
        }
        if (n >= 512 && rnd.nextBoolean()) {
            Arrays.fill(x, 256, 512, 0f);
        }
        return x;
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

    private static float[] rows(CpuKernels k, DType t, MemorySegment w, int nb, float[] x, int xOff, int n, int yOff,
                                int from, int to) {
        CpuKernels.use(k);
        float[] y = new float[n + yOff + 1];
        Arrays.fill(y, Float.NaN);
        KQuantInt8.rows(t, w, t.rowBytes(nb * 256), nb, x, xOff, y, yOff, from, to);
        return y;
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"Q4_K", "Q5_K", "Q6_K"})
    void javaAndNativeGiveTheSameBits(DType t) {
        assumeTrue(nativeHere(), "native kernels unavailable");
        assertTrue(KQuantInt8.supports(t));
        Random rnd = new Random(t.ordinal() * 31L + 3);
        int checked = 0;
        try (Arena arena = Arena.ofConfined()) {
            for (int nb : BLOCKS) {
                int cols = nb * 256;
                for (int rows : ROWS) {
                    for (int variant = 0; variant < 2; variant++) {
                        boolean extreme = variant == 1;
                        MemorySegment w = weight(arena, t, rows, cols, rnd, rows % 3, rows == 3, extreme);
                        int xOff = (cols + rows) % 7;
                        float[] x = input(rnd, cols + xOff + 2);
                        int[][] ranges = {{0, rows}, {rows / 2, rows}, {rows - 1, rows}, {0, (rows + 1) / 2},
                            {rows / 3, rows / 3}};
                        for (int[] r : ranges) {
                            String what = t + " " + rows + "x" + cols + (extreme ? " extreme" : "") + " rows ["
                                    + r[0] + ", " + r[1] + ")";
                            float[] java = rows(CpuKernels.JAVA, t, w, nb, x, xOff, rows, 2, r[0], r[1]);
                            float[] nat = rows(CpuKernels.NATIVE, t, w, nb, x, xOff, rows, 2, r[0], r[1]);
                            float[] again = rows(CpuKernels.NATIVE, t, w, nb, x, xOff, rows, 2, r[0], r[1]);
                            assertBits(java, nat, what);
                            assertBits(java, again, what + " (second native call)");
                            NativeKQuantInt8.useVbmiHeader(false); // the other form of the Q4_K/Q5_K header
                            try {
                                float[] plain = rows(CpuKernels.NATIVE, t, w, nb, x, xOff, rows, 2, r[0], r[1]);
                                assertBits(java, plain, what + " (without the VBMI header)");
                            } finally {
                                NativeKQuantInt8.useVbmiHeader(true);
                            }
                            for (int i = 0; i < java.length; i++) {
                                boolean inRange = i >= 2 + r[0] && i < 2 + r[1];
                                if (!inRange) {
                                    assertTrue(Float.isNaN(java[i]) && Float.isNaN(nat[i]),
                                            what + ": output " + i + " outside the range untouched");
                                }
                            }
                            checked++;
                        }
                    }
                }
            }
        }
        assertEquals(BLOCKS.length * ROWS.length * 2 * 5, checked);
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"Q4_K", "Q5_K", "Q6_K"})
    void batchGivesEachInputTheBitsOfRows(DType t) {
        Random rnd = new Random(t.ordinal() * 17L + 11);
        try (Arena arena = Arena.ofConfined()) {
            for (CpuKernels k : nativeHere() ? new CpuKernels[] {CpuKernels.JAVA, CpuKernels.NATIVE}
                    : new CpuKernels[] {CpuKernels.JAVA}) {
                for (int count : new int[] {1, 2, 5, 33, 70}) {
                    int nb = 1 + count % 4;
                    int cols = nb * 256;
                    int rows = 9;
                    MemorySegment w = weight(arena, t, rows, cols, rnd, 1, false, count == 5);
                    int xOff = 3;
                    int xStride = cols + 5;
                    int yOff = 4;
                    int yStride = rows + 2;
                    float[] x = input(rnd, xOff + count * xStride);
                    float[] y = new float[yOff + count * yStride];
                    Arrays.fill(y, Float.NaN);
                    int from = 1;
                    int to = rows - 1;
                    CpuKernels.use(k);
                    KQuantInt8.batch(t, w, t.rowBytes(cols), nb, x, xOff, xStride, count, y, yOff, yStride, from,
                            to);
                    for (int i = 0; i < count; i++) {
                        float[] one = rows(CpuKernels.JAVA, t, w, nb, x, xOff + i * xStride, rows, 0, from, to);
                        float[] got = Arrays.copyOfRange(y, yOff + i * yStride, yOff + i * yStride + rows + 1);
                        got[rows] = Float.NaN;
                        assertBits(one, got, t + " " + k + " batch of " + count + ", input " + i);
                    }
                    for (int i = 0; i < count; i++) { // nothing between the outputs written
                        assertTrue(Float.isNaN(y[yOff + i * yStride]) && Float.isNaN(y[yOff + i * yStride + rows - 1]),
                                "rows outside [from, to) untouched");
                    }
                }
            }
        }
    }

    /**
     * Against the exact dot product of the dequantised weight with the float x: each x[e] is off by at most half
     * its block's step |dx| (d * 127 = the block's max |x|), so |y - exact| <= sum_b |dx_b| / 2 * sum_e |w_e|, plus
     * float rounding (a few ulps of the terms); the bound is asserted with 1% slack and must also be tight (the
     * error is a sizeable part of it on average, else the bound would test nothing).
     */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"Q4_K", "Q5_K", "Q6_K"})
    void closeToTheFloatDotProductWithinTheQuantisationStep(DType t) {
        Random rnd = new Random(t.ordinal() + 500L);
        int rows = 40;
        int nb = 6;
        int cols = nb * 256;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment w = Quantize.tensor(arena, t, QuantMatVecTest.randomX(rnd, rows * cols));
            float[] x = QuantMatVecTest.randomX(rnd, cols);
            float[] y = new float[rows];
            KQuantInt8.rows(t, w, t.rowBytes(cols), nb, x, 0, y, 0, 0, rows);
            float[] row = new float[cols];
            double ratioSum = 0;
            for (int r = 0; r < rows; r++) {
                Dequantize.row(t, w, r * t.rowBytes(cols), row, 0, cols);
                double exact = 0;
                double bound = 0;
                double abs = 0;
                for (int b = 0; b < nb; b++) {
                    double amax = 0;
                    double wabs = 0;
                    for (int e = 256 * b; e < 256 * b + 256; e++) {
                        amax = Math.max(amax, Math.abs(x[e]));
                        wabs += Math.abs(row[e]);
                        exact += (double) row[e] * x[e];
                        abs += Math.abs((double) row[e] * x[e]);
                    }
                    bound += amax / 127 / 2 * wabs;
                }
                double err = Math.abs(y[r] - exact);
                double limit = bound * 1.01 + 1e-5 * abs;
                assertTrue(err <= limit, t + " row " + r + ": " + y[r] + " vs exact " + exact + ", error " + err
                        + " over the bound " + limit);
                ratioSum += err / bound;
            }
            assertTrue(ratioSum / rows > 0.002, "the int8 rounding shows in the result (mean error/bound "
                    + ratioSum / rows + ")");
        }
    }

    /**
     * A case by hand: x all ones quantises to codes -127 with d = 1 / -127 (bsums -2032); a Q4_K block with d = 1/2,
     * dmin = 1/4, every scale 1, every min 2, every code 3 is the weight 1/2 * 3 - 1/4 * 2 = 1 everywhere, and
     * llama.cpp's formula gives d dx sum(sc q x) - dmin dx sum(m bsums) = dx (1/2 (-97536) - 1/4 (-65024)) = 256.
     */
    @Test
    void aHandComputedQ4KBlock() {
        for (CpuKernels k : nativeHere() ? new CpuKernels[] {CpuKernels.JAVA, CpuKernels.NATIVE}
                : new CpuKernels[] {CpuKernels.JAVA}) {
            CpuKernels.use(k);
            MemorySegment w = MemorySegment.ofArray(new byte[144]);
            w.set(Dequantize.I16, 0, Float.floatToFloat16(0.5f));
            w.set(Dequantize.I16, 2, Float.floatToFloat16(0.25f));
            for (int j = 0; j < 4; j++) {
                w.set(ValueLayout.JAVA_BYTE, 4 + j, (byte) 1); // sc[j] = 1
                w.set(ValueLayout.JAVA_BYTE, 8 + j, (byte) 2); // m[j] = 2
                w.set(ValueLayout.JAVA_BYTE, 12 + j, (byte) 0x21); // sc[j+4] = 1, m[j+4] = 2
            }
            for (int i = 0; i < 128; i++) {
                w.set(ValueLayout.JAVA_BYTE, 16 + i, (byte) 0x33);
            }
            float[] x = new float[256];
            Arrays.fill(x, 1f);
            float[] y = new float[1];
            KQuantInt8.rows(DType.Q4_K, w, 144, 1, x, 0, y, 0, 0, 1);
            assertEquals(256f, y[0], 256f * 1e-6f, k.toString());
        }
    }

    /**
     * The quantiser on chosen values: the first of the largest |x| is the max (its sign sets iscale's), codes round
     * half to even (llama.cpp's nearest_int), bsums sum 16 codes, d = 1 / iscale, an all-zero block is all zeros.
     */
    @Test
    void q8KQuantisesAsLlamaCpp() {
        float[] x = new float[512];
        float[] a = {-127f, 2.5f, 3.5f, -0.5f, 0.5f, 1.5f, 127f, -126.6f};
        System.arraycopy(a, 0, x, 0, a.length); // max -127: iscale 1
        x[256] = 2f;
        x[257] = -4f; // max -4: iscale 31.75, 2 -> 63.5 -> 64
        x[258] = 4f; // as large, later: not the max
        byte[] q = new byte[2 * Q8KActivations.BLOCK_BYTES];
        Q8KActivations.quantize(x, 0, 2, q, 0);
        int[] want = {-127, 2, 4, 0, 0, 2, 127, -127};
        for (int j = 0; j < 256; j++) {
            assertEquals(j < want.length ? want[j] : 0, q[Q8KActivations.QS + j], "block 0 code " + j);
        }
        assertEquals(-119, (short) Q8KActivations.I16.get(q, Q8KActivations.BSUMS));
        assertEquals(0, (short) Q8KActivations.I16.get(q, Q8KActivations.BSUMS + 2));
        assertEquals(1f, (float) Q8KActivations.F32.get(q, 0));
        int b = Q8KActivations.BLOCK_BYTES;
        assertEquals(64, q[b + Q8KActivations.QS]);
        assertEquals(-127, q[b + Q8KActivations.QS + 1]);
        assertEquals(127, q[b + Q8KActivations.QS + 2]);
        assertEquals(64, (short) Q8KActivations.I16.get(q, b + Q8KActivations.BSUMS));
        assertEquals(Float.floatToRawIntBits(1f / 31.75f), Float.floatToRawIntBits((float) Q8KActivations.F32.get(q,
                b)));
        Arrays.fill(x, 0f);
        Arrays.fill(q, (byte) 7);
        Q8KActivations.quantize(x, 0, 1, q, 0);
        for (int j = 0; j < b; j++) {
            assertEquals(0, q[j], "an all-zero block is all zeros");
        }
    }

    /**
     * llama.cpp's integer formulas transcribed independently (the reference ggml_vec_dot_q*_K_q8_K: codes as
     * dequantize_row_q*_K reads them, sum over groups of scale * (codes . x codes), minus dmin * sum(m * bsum pairs)
     * or Q6_K's codes - 32), summed in double: the kernel's float result is that to float rounding.
     */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"Q4_K", "Q5_K", "Q6_K"})
    void matchesLlamaCppFormulas(DType t) {
        Random rnd = new Random(t.ordinal() + 4242L);
        int nb = 4;
        int rows = 6;
        int cols = nb * 256;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment w = QuantMatVecTest.randomBlocks(arena, t, rows, cols, rnd);
            float[] x = QuantMatVecTest.randomX(rnd, cols);
            byte[] xq = new byte[nb * Q8KActivations.BLOCK_BYTES];
            Q8KActivations.quantize(x, 0, nb, xq, 0);
            for (CpuKernels k : nativeHere() ? new CpuKernels[] {CpuKernels.JAVA, CpuKernels.NATIVE}
                    : new CpuKernels[] {CpuKernels.JAVA}) {
                CpuKernels.use(k);
                float[] y = new float[rows];
                KQuantInt8.rows(t, w, t.rowBytes(cols), nb, x, 0, y, 0, 0, rows);
                for (int r = 0; r < rows; r++) {
                    double want = 0;
                    double abs = 0;
                    for (int b = 0; b < nb; b++) {
                        double[] term = llamaBlock(t, w, r * t.rowBytes(cols) + (long) b * t.blockBytes(), xq,
                                b * Q8KActivations.BLOCK_BYTES);
                        want += term[0];
                        abs += term[1];
                    }
                    assertEquals(want, y[r], 1e-5 * abs, t + " " + k + " row " + r);
                }
            }
        }
    }

    /** {value, magnitude} of one block's llama.cpp dot product. */
    private static double[] llamaBlock(DType t, MemorySegment w, long p, byte[] xq, int xp) {
        double dx = (float) Q8KActivations.F32.get(xq, xp);
        int[] x8 = new int[256];
        for (int e = 0; e < 256; e++) {
            x8[e] = xq[xp + 4 + e];
        }
        int[] bs = new int[16];
        for (int g = 0; g < 16; g++) {
            bs[g] = (short) Q8KActivations.I16.get(xq, xp + 260 + 2 * g);
        }
        int[] q = new int[256];
        byte[] blk = new byte[t.blockBytes()];
        MemorySegment.copy(w, ValueLayout.JAVA_BYTE, p, blk, 0, blk.length);
        if (t == DType.Q6_K) {
            // dequantize_row_q6_K's loop: two halves of 128, is = l / 16
            for (int n = 0; n < 2; n++) {
                for (int l = 0; l < 32; l++) {
                    int ql0 = blk[64 * n + l] & 0xFF;
                    int ql32 = blk[64 * n + l + 32] & 0xFF;
                    int qh = blk[128 + 32 * n + l] & 0xFF;
                    q[128 * n + l] = ((ql0 & 0xF) | ((qh & 3) << 4)) - 32;
                    q[128 * n + l + 32] = ((ql32 & 0xF) | (((qh >> 2) & 3) << 4)) - 32;
                    q[128 * n + l + 64] = ((ql0 >> 4) | (((qh >> 4) & 3) << 4)) - 32;
                    q[128 * n + l + 96] = ((ql32 >> 4) | (((qh >> 6) & 3) << 4)) - 32;
                }
            }
            long isum = 0;
            for (int g = 0; g < 16; g++) {
                long s = 0;
                for (int e = 16 * g; e < 16 * g + 16; e++) {
                    s += (long) q[e] * x8[e];
                }
                isum += blk[192 + g] * s;
            }
            double d = Float.float16ToFloat((short) ((blk[208] & 0xFF) | (blk[209] & 0xFF) << 8)) * dx;
            return new double[] {d * isum, Math.abs(d) * absDot(q, x8, blk, true)};
        }
        // get_scale_min_k4
        int[] sc = new int[8];
        int[] m = new int[8];
        for (int j = 0; j < 8; j++) {
            int s4 = 4;
            if (j < 4) {
                sc[j] = blk[s4 + j] & 63;
                m[j] = blk[s4 + j + 4] & 63;
            } else {
                sc[j] = (blk[s4 + j + 4] & 0xF) | (((blk[s4 + j - 4] & 0xFF) >> 6) << 4);
                m[j] = ((blk[s4 + j + 4] & 0xFF) >> 4) | (((blk[s4 + j] & 0xFF) >> 6) << 4);
            }
        }
        int qsAt = t == DType.Q4_K ? 16 : 48;
        for (int j = 0; j < 4; j++) { // 64 elements per j: low nibbles, then high
            for (int l = 0; l < 32; l++) {
                int c = blk[qsAt + 32 * j + l] & 0xFF;
                int lo = c & 0xF;
                int hi = c >> 4;
                if (t == DType.Q5_K) {
                    int qh = blk[16 + l] & 0xFF;
                    lo += ((qh >> (2 * j)) & 1) << 4;
                    hi += ((qh >> (2 * j + 1)) & 1) << 4;
                }
                q[64 * j + l] = lo;
                q[64 * j + 32 + l] = hi;
            }
        }
        long isum = 0;
        long msum = 0;
        for (int g = 0; g < 8; g++) {
            long s = 0;
            for (int e = 32 * g; e < 32 * g + 32; e++) {
                s += (long) q[e] * x8[e];
            }
            isum += sc[g] * s;
            msum += m[g] * (long) (bs[2 * g] + bs[2 * g + 1]);
        }
        double d = Float.float16ToFloat((short) ((blk[0] & 0xFF) | (blk[1] & 0xFF) << 8)) * dx;
        double dmin = Float.float16ToFloat((short) ((blk[2] & 0xFF) | (blk[3] & 0xFF) << 8)) * dx;
        double mag = Math.abs(d) * 63 * absDot(q, x8, blk, false) + Math.abs(dmin) * 63 * 256 * 127 * 8;
        return new double[] {d * isum - dmin * msum, mag};
    }

    private static double absDot(int[] q, int[] x8, byte[] blk, boolean q6) {
        double s = 0;
        for (int e = 0; e < 256; e++) {
            s += Math.abs((double) q[e] * x8[e]) * (q6 ? Math.abs(blk[192 + e / 16]) : 1);
        }
        return s;
    }

    /**
     * The Java kernel's scalar form (used where 512-bit vectors are not native) gives the vector form's bits: both
     * are run here on the same unpacked random blocks and Q8_K inputs (extreme scales included).
     */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"Q4_K", "Q5_K", "Q6_K"})
    void scalarJavaFormGivesTheVectorFormsBits(DType t) {
        Random rnd = new Random(t.ordinal() + 77L);
        int nb = 6;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment w = weight(arena, t, 1, nb * 256, rnd, 0, false, true);
            float[] x = input(rnd, nb * 256);
            byte[] xq = new byte[nb * Q8KActivations.BLOCK_BYTES];
            Q8KActivations.quantize(x, 0, nb, xq, 0);
            KQuantInt8.Scratch s = new KQuantInt8.Scratch();
            s.accumulators(2);
            boolean q6 = t == DType.Q6_K;
            for (int b = 0; b < nb; b++) {
                s.unpack(t, w, (long) b * t.blockBytes());
                int p = b * Q8KActivations.BLOCK_BYTES;
                s.step(q6, xq, p, 0);
                float dx = (float) Q8KActivations.F32.get(xq, p);
                s.stepScalar(q6, xq, p, 1, s.d * dx, s.dmin * dx);
                int n = KQuantInt8.ACC;
                assertBits(Arrays.copyOfRange(s.f, 0, n), Arrays.copyOfRange(s.f, n, 2 * n), t + " block " + b);
            }
        }
    }
}
