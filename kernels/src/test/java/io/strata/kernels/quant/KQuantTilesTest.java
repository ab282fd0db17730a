package io.strata.kernels.quant;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.strata.core.model.DType;
import io.strata.kernels.cpu.CpuKernels;
import io.strata.kernels.cpu.NativeKQuantInt8;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The tile form of the K-quant batch (AMX-INT8, {@code strata_kq8_*_tiles}): each output has the bits of the tile
 * arithmetic restated here in Java from the ggml block layouts (not from the kernels' unpacking), for batches of
 * {@link NativeKQuantInt8#TILES_MIN} inputs and more, partial row and input tiles, row ranges, strides and extreme
 * f16 scales; outputs outside the row range stay untouched; a batch below the minimum keeps the rows kernel's
 * bits; and turning the form off gives the rows kernel's bits again. Runs only where the CPU has AMX-INT8.
 */
class KQuantTilesTest {
    private CpuKernels before;
    private boolean tilesBefore;

    @BeforeEach
    void remember() {
        before = CpuKernels.active();
        tilesBefore = NativeKQuantInt8.useTiles(true);
    }

    @AfterEach
    void restore() {
        CpuKernels.use(before);
        NativeKQuantInt8.useTiles(tilesBefore);
    }

    private static void assumeTiles() {
        assumeTrue(CpuKernels.nativeUnavailable().isEmpty() && NativeKQuantInt8.tilesUnavailable() == null,
                "tile kernels unavailable: " + NativeKQuantInt8.tilesUnavailable());
        CpuKernels.use(CpuKernels.NATIVE);
        assertTrue(NativeKQuantInt8.tiles(), "tile form on");
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"Q4_K", "Q5_K", "Q6_K"})
    void batchesOfTheMinimumAndMoreGiveTheTileArithmeticBitForBit(DType t) {
        assumeTiles();
        Random rnd = new Random(t.ordinal() * 31L + 7);
        try (Arena arena = Arena.ofConfined()) {
            for (int count : new int[] {NativeKQuantInt8.TILES_MIN, 16, 17, 33, 70}) {
                int nb = 1 + count % 4;
                int cols = nb * 256;
                int rows = 37; // two whole row tiles and a partial one
                MemorySegment w = KQuantInt8Test.weight(arena, t, rows, cols, rnd, 1, count == 17, count == 33);
                int xOff = 3;
                int xStride = cols + 5;
                int yOff = 4;
                int yStride = rows + 2;
                float[] x = KQuantInt8Test.input(rnd, xOff + count * xStride);
                float[] y = new float[yOff + count * yStride];
                Arrays.fill(y, Float.NaN);
                int from = 1;
                int to = rows - 1;
                KQuantInt8.batch(t, w, t.rowBytes(cols), nb, x, xOff, xStride, count, y, yOff, yStride, from, to);
                byte[] xq = new byte[nb * Q8KActivations.BLOCK_BYTES];
                for (int i = 0; i < count; i++) {
                    Q8KActivations.quantize(x, xOff + i * xStride, nb, xq, 0);
                    assertTrue(Float.isNaN(y[yOff + i * yStride]) && Float.isNaN(y[yOff + i * yStride + to]),
                            "rows outside [from, to) untouched");
                    for (int r = from; r < to; r++) {
                        float want = tileDot(t, w, r * t.rowBytes(cols), nb, xq);
                        float got = y[yOff + i * yStride + r];
                        if (Float.floatToRawIntBits(want) != Float.floatToRawIntBits(got)) {
                            throw new AssertionError(t + " batch of " + count + ", input " + i + ", row " + r + ": "
                                    + got + ", want " + want);
                        }
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"Q4_K", "Q5_K", "Q6_K"})
    void belowTheMinimumOrTurnedOffTheBatchKeepsTheRowsBits(DType t) {
        assumeTiles();
        Random rnd = new Random(t.ordinal() * 13L + 3);
        try (Arena arena = Arena.ofConfined()) {
            int nb = 2;
            int cols = nb * 256;
            int rows = 20;
            MemorySegment w = KQuantInt8Test.weight(arena, t, rows, cols, rnd, 0, false, false);
            for (int count : new int[] {NativeKQuantInt8.TILES_MIN - 1, 40}) {
                boolean off = count >= NativeKQuantInt8.TILES_MIN;
                NativeKQuantInt8.useTiles(!off);
                float[] x = KQuantInt8Test.input(rnd, count * cols);
                float[] y = new float[count * rows];
                KQuantInt8.batch(t, w, t.rowBytes(cols), nb, x, 0, cols, count, y, 0, rows, 0, rows);
                int differ = 0;
                for (int i = 0; i < count; i++) {
                    float[] one = new float[rows];
                    KQuantInt8.rows(t, w, t.rowBytes(cols), nb, x, i * cols, one, 0, 0, rows);
                    for (int r = 0; r < rows; r++) {
                        if (Float.floatToRawIntBits(one[r]) != Float.floatToRawIntBits(y[i * rows + r])) {
                            differ++;
                        }
                    }
                }
                assertTrue(differ == 0, t + " batch of " + count + (off ? " (tiles off)" : "") + ": " + differ
                        + " outputs differ from the rows kernel's");
            }
        }
    }

    /**
     * The tile arithmetic for one row and one Q8_K-quantised input: per super-block the exact integer
     * I = sum q[e] sc[group(e)] x[e], F = fma((float) I, d * dx, F); Q4_K/Q5_K also M = sum m[j] (bsums[2j] +
     * bsums[2j + 1]), F = fma(-(float) M, dmin * dx, F).
     */
    static float tileDot(DType t, MemorySegment w, long row, int nb, byte[] xq) {
        float f = 0f;
        int[] q = new int[256];
        int[] sc = new int[16];
        int[] m = new int[8];
        for (int b = 0; b < nb; b++) {
            long p = row + (long) t.blockBytes() * b;
            float d;
            float dmin = 0f;
            int groups;
            if (t == DType.Q6_K) {
                groups = 16;
                d = f16(w, p + 208);
                for (int h = 0; h < 2; h++) {
                    for (int l = 0; l < 32; l++) {
                        int ql0 = u8(w, p + 64 * h + l);
                        int ql1 = u8(w, p + 64 * h + 32 + l);
                        int qh = u8(w, p + 128 + 32 * h + l);
                        q[128 * h + l] = ((ql0 & 15) | ((qh & 3) << 4)) - 32;
                        q[128 * h + l + 32] = ((ql1 & 15) | (((qh >> 2) & 3) << 4)) - 32;
                        q[128 * h + l + 64] = ((ql0 >> 4) | (((qh >> 4) & 3) << 4)) - 32;
                        q[128 * h + l + 96] = ((ql1 >> 4) | (((qh >> 6) & 3) << 4)) - 32;
                    }
                }
                for (int g = 0; g < 16; g++) {
                    sc[g] = w.get(ValueLayout.JAVA_BYTE, p + 192 + g);
                }
            } else {
                groups = 8;
                d = f16(w, p);
                dmin = f16(w, p + 2);
                for (int j = 0; j < 8; j++) {
                    int s = j < 4 ? u8(w, p + 4 + j) & 63
                            : (u8(w, p + 4 + j + 4) & 15) | ((u8(w, p + 4 + j - 4) >> 6) << 4);
                    int mn = j < 4 ? u8(w, p + 4 + j + 4) & 63
                            : (u8(w, p + 4 + j + 4) >> 4) | ((u8(w, p + 4 + j) >> 6) << 4);
                    sc[j] = s;
                    m[j] = mn;
                }
                long qs = p + (t == DType.Q5_K ? 48 : 16);
                for (int k = 0; k < 4; k++) {
                    for (int i = 0; i < 32; i++) {
                        int c = u8(w, qs + 32 * k + i);
                        int lo = c & 15;
                        int hi = c >> 4;
                        if (t == DType.Q5_K) {
                            int qh = u8(w, p + 16 + i);
                            lo += ((qh >> (2 * k)) & 1) << 4;
                            hi += ((qh >> (2 * k + 1)) & 1) << 4;
                        }
                        q[64 * k + i] = lo;
                        q[64 * k + 32 + i] = hi;
                    }
                }
            }
            int xb = Q8KActivations.BLOCK_BYTES * b;
            float dx = Float.intBitsToFloat((xq[xb] & 0xFF) | (xq[xb + 1] & 0xFF) << 8 | (xq[xb + 2] & 0xFF) << 16
                    | (xq[xb + 3] & 0xFF) << 24);
            int sum = 0;
            for (int e = 0; e < 256; e++) {
                sum += q[e] * sc[e / (256 / groups)] * xq[xb + 4 + e];
            }
            f = Math.fma((float) sum, d * dx, f);
            if (t != DType.Q6_K) {
                int mins = 0;
                for (int j = 0; j < 8; j++) {
                    mins += m[j] * (bsum(xq, xb, 2 * j) + bsum(xq, xb, 2 * j + 1));
                }
                f = Math.fma(-(float) mins, dmin * dx, f);
            }
        }
        return f;
    }

    private static int bsum(byte[] xq, int xb, int g) {
        int o = xb + 260 + 2 * g;
        return (short) ((xq[o] & 0xFF) | (xq[o + 1] << 8));
    }

    private static int u8(MemorySegment w, long p) {
        return w.get(ValueLayout.JAVA_BYTE, p) & 0xFF;
    }

    private static float f16(MemorySegment w, long p) {
        return Float.float16ToFloat(w.get(ValueLayout.JAVA_SHORT_UNALIGNED, p));
    }
}
