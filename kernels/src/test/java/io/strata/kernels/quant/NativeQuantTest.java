package io.strata.kernels.quant;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.strata.core.model.DType;
import io.strata.kernels.cpu.CpuKernels;
import io.strata.kernels.cpu.NativeQuant;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The native quantised row kernels ({@link NativeQuant}) against the Java kernels they twin, bit for bit: several
 * block counts per row (odd ones reach the single-block tail of Q8_0/Q4_0), one row and row counts that are not
 * a multiple of anything, row ranges that start and end inside the weight, input and output offsets, heap-backed
 * and unaligned weights, scales over the whole f16 range (subnormal to 65504) and inputs over many binades with
 * zeros and negative zeros (where a Java FMA into a zero vector and a plain multiply would differ in sign).
 */
class NativeQuantTest {
    private static final int[] BLOCKS = {1, 2, 3, 5, 8};
    private static final int[] ROWS = {1, 2, 3, 7, 33};
    private CpuKernels before;

    @BeforeEach
    void requireNative() {
        assumeTrue(CpuKernels.nativeUnavailable().isEmpty() && NativeQuant.unavailable() == null,
                "native kernels unavailable: " + CpuKernels.nativeUnavailable().orElse(NativeQuant.unavailable()));
        before = CpuKernels.active();
    }

    @AfterEach
    void restore() {
        if (before != null) {
            CpuKernels.use(before);
        }
    }

    /**
     * Random blocks (QuantMatVecTest's), at byte {@code skew} of their segment, with every f16 scale replaced by
     * a random finite f16 when {@code extreme} (any exponent, either sign).
     */
    private static MemorySegment weight(Arena arena, DType t, int rows, int cols, Random rnd, int skew, boolean heap,
                                        boolean extreme) {
        MemorySegment blocks = QuantMatVecTest.randomBlocks(arena, t, rows, cols, rnd);
        long n = blocks.byteSize();
        MemorySegment whole = heap ? MemorySegment.ofArray(new byte[Math.toIntExact(n + skew)])
                : arena.allocate(n + skew, 64);
        MemorySegment w = whole.asSlice(skew, n);
        w.copyFrom(blocks);
        if (extreme) {
            int[] f16 = switch (t) {
                case Q8_0, Q4_0 -> new int[] {0};
                case Q4_K, Q5_K -> new int[] {0, 2};
                case Q6_K -> new int[] {208};
                default -> throw new AssertionError(t);
            };
            for (long p = 0; p < n; p += t.blockBytes()) {
                for (int o : f16) {
                    int bits;
                    do {
                        bits = rnd.nextInt(1 << 16);
                    } while ((bits & 0x7C00) == 0x7C00); // no infinities or NaNs
                    w.set(Dequantize.I16, p + o, (short) bits);
                }
            }
        }
        return w;
    }

    private static float[] input(Random rnd, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            int k = rnd.nextInt(16);
            x[i] = k == 0 ? 0f : k == 1 ? -0f : (float) (rnd.nextGaussian() * Math.pow(2, rnd.nextInt(40) - 20));
        }
        return x;
    }

    /** y (NaN-filled, length n) after {@code call}, three times: the first call stages y, the third does not. */
    private static float[] run(CpuKernels k, java.util.function.Consumer<float[]> call, int n) {
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
        assertBits(first, y, "first and third call");
        return y;
    }

    private static void assertBits(float[] want, float[] got, String what) {
        for (int i = 0; i < want.length; i++) {
            if (Float.floatToRawIntBits(want[i]) != Float.floatToRawIntBits(got[i])) {
                throw new AssertionError(what + ": output " + i + " is " + got[i] + " (0x"
                        + Integer.toHexString(Float.floatToRawIntBits(got[i])) + ") natively, " + want[i] + " (0x"
                        + Integer.toHexString(Float.floatToRawIntBits(want[i])) + ") in Java");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"Q8_0", "Q4_0", "Q4_K", "Q5_K", "Q6_K"})
    void rowKernelsMatchJavaBitForBit(DType t) {
        assertTrue(NativeQuant.supports(t), t + " has a native kernel");
        Random rnd = new Random(t.ordinal() * 131L + 5);
        int checked = 0;
        try (Arena arena = Arena.ofConfined()) {
            for (int nb : BLOCKS) {
                int cols = nb * t.blockSize();
                for (int rows : ROWS) {
                    for (int variant = 0; variant < 2; variant++) {
                        boolean extreme = variant == 1;
                        MemorySegment w = weight(arena, t, rows, cols, rnd, rows % 3, rows == 3, extreme);
                        int xOff = (cols + rows) % 7;
                        float[] x = input(rnd, cols + xOff + 2);
                        int[][] ranges = {{0, rows}, {rows / 2, rows}, {rows - 1, rows}, {0, (rows + 1) / 2},
                            {Math.min(1, rows - 1), Math.max(1, rows - 1)}, {rows / 3, rows / 3}};
                        for (int[] r : ranges) {
                            String what = t + " " + rows + "x" + cols + (extreme ? " extreme scales" : "")
                                    + " rows [" + r[0] + ", " + r[1] + ")";
                            int yOff = 2;
                            java.util.function.Consumer<float[]> call = y -> QuantMatVec.matvec(t, w, rows, cols, x,
                                    xOff, y, yOff, r[0], r[1]);
                            float[] java = run(CpuKernels.JAVA, call, rows + 3);
                            float[] nat = run(CpuKernels.NATIVE, call, rows + 3);
                            assertBits(java, nat, what);
                            checked++;
                        }
                    }
                }
            }
        }
        assertTrue(checked == BLOCKS.length * ROWS.length * 2 * 6, "every shape checked");
    }

    /** Rows large enough to be realistic, with an x that the thread has already seen (no staging). */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"Q8_0", "Q4_0", "Q4_K", "Q5_K", "Q6_K"})
    void wideRowsMatchJavaBitForBit(DType t) {
        Random rnd = new Random(t.ordinal() + 77L);
        int rows = 65;
        int cols = 4096 + 2 * t.blockSize() + (t.blockSize() == 32 ? 32 : 0);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment w = weight(arena, t, rows, cols, rnd, 0, false, false);
            float[] x = input(rnd, cols);
            java.util.function.Consumer<float[]> call = y -> QuantMatVec.matvec(t, w, rows, cols, x, 0, y, 0, 3,
                    rows);
            assertBits(run(CpuKernels.JAVA, call, rows), run(CpuKernels.NATIVE, call, rows), t + " " + rows + "x"
                    + cols);
        }
    }

    /**
     * The K-quants' native group sums of x are cached per thread by x's bits: an x changed in place (as the
     * decoder reuses its buffers) must give the new sums, and an x past the cache's width its own.
     */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"Q4_K", "Q5_K"})
    void groupSumsFollowTheInput(DType t) {
        Random rnd = new Random(t.ordinal() + 991L);
        try (Arena arena = Arena.ofConfined()) {
            for (int cols : new int[] {1024, 16384 + 256}) {
                int rows = 5;
                MemorySegment w = weight(arena, t, rows, cols, rnd, 0, false, false);
                float[] x = input(rnd, cols);
                for (int change = 0; change < 4; change++) {
                    x[rnd.nextInt(cols)] = (float) rnd.nextGaussian(); // one element changed in place
                    java.util.function.Consumer<float[]> call = y -> QuantMatVec.matvec(t, w, rows, cols, x, 0, y, 0,
                            0, rows);
                    assertBits(run(CpuKernels.JAVA, call, rows), run(CpuKernels.NATIVE, call, rows),
                            t + " " + rows + "x" + cols + " after change " + change);
                }
            }
        }
    }
}
