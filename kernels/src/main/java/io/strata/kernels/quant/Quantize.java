package io.strata.kernels.quant;

import io.strata.core.model.DType;
import io.strata.kernels.cpu.FloatCodec;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Round-to-nearest quantisation into ggml's block formats: the inverse of {@link Dequantize}, for tests and
 * synthetic quantised models. Scales are chosen from each block's range as llama.cpp's reference quantisers do
 * (Q8_0: max|x|/127; Q4_0: the signed extreme / -8; K-quants: per-group scale and min, then 6- or 8-bit group
 * scales under an f16 super-scale), without llama.cpp's error-minimising search: the blocks are valid and close,
 * not the ones llama-quantize would pick.
 */
public final class Quantize {
    private Quantize() {
    }

    /** Quantises {@code n} values (whole blocks) from {@code x[off..]} into {@code dst} at byte {@code dstOff}. */
    public static void row(DType t, float[] x, int off, int n, MemorySegment dst, long dstOff) {
        if (!t.isWholeBlocks(n)) {
            throw new IllegalArgumentException(n + " elements of " + t + " are not whole " + t.blockSize()
                    + "-element blocks");
        }
        if (!t.isQuantized()) {
            for (int i = 0; i < n; i++) {
                FloatCodec.set(dst.asSlice(dstOff), t, i, x[off + i]);
            }
            return;
        }
        int bs = t.blockSize();
        for (int b = 0; b < n / bs; b++) {
            long p = dstOff + (long) b * t.blockBytes();
            int o = off + b * bs;
            switch (t) {
                case Q8_0 -> q8_0(x, o, dst, p);
                case Q4_0 -> qSymmetric(x, o, dst, p, 4);
                case Q5_0 -> qSymmetric(x, o, dst, p, 5);
                case Q4_1 -> qAffine(x, o, dst, p, 4);
                case Q5_1 -> qAffine(x, o, dst, p, 5);
                case MXFP4 -> mxfp4(x, o, dst, p);
                case Q2_K -> q2K(x, o, dst, p);
                case Q3_K -> q3K(x, o, dst, p);
                case Q4_K -> qK(x, o, dst, p, 4);
                case Q5_K -> qK(x, o, dst, p, 5);
                case Q6_K -> q6K(x, o, dst, p);
                default -> throw new IllegalArgumentException("no quantiser for " + t);
            }
        }
    }

    /** A row-major tensor of {@code values} (blocks along the last dimension) in a new segment of {@code arena}. */
    public static MemorySegment tensor(Arena arena, DType t, float[] values) {
        MemorySegment seg = arena.allocate(t.bytesFor(values.length), 64);
        row(t, values, 0, values.length, seg, 0);
        return seg;
    }

    private static void put8(MemorySegment s, long p, int v) {
        s.set(ValueLayout.JAVA_BYTE, p, (byte) v);
    }

    private static void putF16(MemorySegment s, long p, float v) {
        s.set(Dequantize.I16, p, Float.floatToFloat16(v));
    }

    private static int nearest(float v) {
        return Math.round(v);
    }

    private static int clamp(int v, int lo, int hi) {
        return Math.max(lo, Math.min(hi, v));
    }

    private static void q8_0(float[] x, int o, MemorySegment s, long p) {
        float amax = 0;
        for (int j = 0; j < 32; j++) {
            amax = Math.max(amax, Math.abs(x[o + j]));
        }
        float d = amax / 127;
        float id = d != 0 ? 1 / d : 0;
        putF16(s, p, d);
        for (int j = 0; j < 32; j++) {
            put8(s, p + 2 + j, clamp(nearest(x[o + j] * id), -127, 127));
        }
    }

    /** Q4_0 / Q5_0: d = signed extreme / -2^(bits-1), codes q - 2^(bits-1). */
    private static void qSymmetric(float[] x, int o, MemorySegment s, long p, int bits) {
        int half = 1 << (bits - 1);
        float d = signedExtreme(x, o, 32) / -half;
        float id = d != 0 ? 1 / d : 0;
        putF16(s, p, d);
        int[] q = new int[32];
        for (int j = 0; j < 32; j++) {
            q[j] = clamp(nearest(x[o + j] * id) + half, 0, 2 * half - 1);
        }
        packLegacy(q, s, p + 2, bits);
    }

    /** Q4_1 / Q5_1: d = (max - min) / (2^bits - 1), m = min. */
    private static void qAffine(float[] x, int o, MemorySegment s, long p, int bits) {
        int levels = (1 << bits) - 1;
        float min = Float.MAX_VALUE;
        float max = -Float.MAX_VALUE;
        for (int j = 0; j < 32; j++) {
            min = Math.min(min, x[o + j]);
            max = Math.max(max, x[o + j]);
        }
        float d = (max - min) / levels;
        float id = d != 0 ? 1 / d : 0;
        putF16(s, p, d);
        putF16(s, p + 2, min);
        int[] q = new int[32];
        for (int j = 0; j < 32; j++) {
            q[j] = clamp(nearest((x[o + j] - min) * id), 0, levels);
        }
        packLegacy(q, s, p + 4, bits);
    }

    /** 32 codes: low nibbles of j and j+16 share byte j; for 5 bits, bit 4 of code j is bit j of a u32 first. */
    private static void packLegacy(int[] q, MemorySegment s, long p, int bits) {
        long qs = p;
        if (bits == 5) {
            int qh = 0;
            for (int j = 0; j < 32; j++) {
                qh |= ((q[j] >> 4) & 1) << j;
            }
            s.set(Dequantize.I32, p, qh);
            qs = p + 4;
        }
        for (int j = 0; j < 16; j++) {
            put8(s, qs + j, (q[j] & 0xF) | (q[j + 16] & 0xF) << 4);
        }
    }

    private static void mxfp4(float[] x, int o, MemorySegment s, long p) {
        float amax = 0;
        for (int j = 0; j < 32; j++) {
            amax = Math.max(amax, Math.abs(x[o + j]));
        }
        int e = amax > 0 ? clamp((int) Math.floor(Math.log(amax) / Math.log(2)) - 2 + 127, 0, 254) : 0;
        float d = Dequantize.e8m0Half(e);
        put8(s, p, e);
        int[] q = new int[32];
        for (int j = 0; j < 32; j++) {
            float best = Float.MAX_VALUE;
            for (int c = 0; c < 16; c++) {
                float err = Math.abs(Dequantize.KVALUES_MXFP4[c] * d - x[o + j]);
                if (err < best) {
                    best = err;
                    q[j] = c;
                }
            }
        }
        for (int j = 0; j < 16; j++) {
            put8(s, p + 1 + j, q[j] | q[j + 16] << 4);
        }
    }

    /** Per-group affine scale and (non-negative) min for {@code levels} codes, as {scale, min}. */
    private static float[] groupScaleMin(float[] x, int o, int n, int levels) {
        float min = 0;
        float max = -Float.MAX_VALUE;
        for (int j = 0; j < n; j++) {
            min = Math.min(min, x[o + j]);
            max = Math.max(max, x[o + j]);
        }
        return new float[]{Math.max(0, max - min) / levels, -min};
    }

    /** Q4_K / Q5_K: 8 groups of 32, 6-bit scales and mins packed into 12 bytes. */
    private static void qK(float[] x, int o, MemorySegment s, long p, int bits) {
        int levels = (1 << bits) - 1;
        float[] sc = new float[8];
        float[] mn = new float[8];
        float maxSc = 0;
        float maxMn = 0;
        for (int g = 0; g < 8; g++) {
            float[] sm = groupScaleMin(x, o + 32 * g, 32, levels);
            sc[g] = sm[0];
            mn[g] = sm[1];
            maxSc = Math.max(maxSc, sc[g]);
            maxMn = Math.max(maxMn, mn[g]);
        }
        float d = maxSc / 63;
        float dmin = maxMn / 63;
        putF16(s, p, d);
        putF16(s, p + 2, dmin);
        float dq = Float.float16ToFloat(Float.floatToFloat16(d));
        float dminq = Float.float16ToFloat(Float.floatToFloat16(dmin));
        int[] ls = new int[8];
        int[] lm = new int[8];
        for (int g = 0; g < 8; g++) {
            ls[g] = dq > 0 ? clamp(nearest(sc[g] / dq), 0, 63) : 0;
            lm[g] = dminq > 0 ? clamp(nearest(mn[g] / dminq), 0, 63) : 0;
        }
        long scales = p + 4;
        for (int j = 0; j < 12; j++) {
            put8(s, scales + j, 0);
        }
        for (int j = 0; j < 8; j++) {
            if (j < 4) {
                put8(s, scales + j, ls[j]);
                put8(s, scales + j + 4, lm[j]);
            } else {
                put8(s, scales + j + 4, (ls[j] & 0xF) | (lm[j] & 0xF) << 4);
                put8(s, scales + j - 4, Dequantize.u8(s, scales + j - 4) | (ls[j] >> 4) << 6);
                put8(s, scales + j, Dequantize.u8(s, scales + j) | (lm[j] >> 4) << 6);
            }
        }
        int[] q = new int[256];
        for (int g = 0; g < 8; g++) {
            float dl = dq * ls[g];
            float ml = dminq * lm[g];
            for (int l = 0; l < 32; l++) {
                q[32 * g + l] = dl > 0 ? clamp(nearest((x[o + 32 * g + l] + ml) / dl), 0, levels) : 0;
            }
        }
        long qs = p + (bits == 5 ? 48 : 16);
        if (bits == 5) {
            for (int l = 0; l < 32; l++) {
                int h = 0;
                for (int j = 0; j < 4; j++) {
                    h |= ((q[64 * j + l] >> 4) & 1) << (2 * j);
                    h |= ((q[64 * j + 32 + l] >> 4) & 1) << (2 * j + 1);
                }
                put8(s, p + 16 + l, h);
            }
        }
        for (int j = 0; j < 4; j++) {
            for (int l = 0; l < 32; l++) {
                put8(s, qs + 32 * j + l, (q[64 * j + l] & 0xF) | (q[64 * j + 32 + l] & 0xF) << 4);
            }
        }
    }

    /** Q2_K: 16 groups of 16, 4-bit scale | 4-bit min per group, codes 0..3. */
    private static void q2K(float[] x, int o, MemorySegment s, long p) {
        float[] sc = new float[16];
        float[] mn = new float[16];
        float maxSc = 0;
        float maxMn = 0;
        for (int g = 0; g < 16; g++) {
            float[] sm = groupScaleMin(x, o + 16 * g, 16, 3);
            sc[g] = sm[0];
            mn[g] = sm[1];
            maxSc = Math.max(maxSc, sc[g]);
            maxMn = Math.max(maxMn, mn[g]);
        }
        float d = maxSc / 15;
        float dmin = maxMn / 15;
        putF16(s, p + 80, d);
        putF16(s, p + 82, dmin);
        float dq = Float.float16ToFloat(Float.floatToFloat16(d));
        float dminq = Float.float16ToFloat(Float.floatToFloat16(dmin));
        int[] q = new int[256];
        for (int g = 0; g < 16; g++) {
            int ls = dq > 0 ? clamp(nearest(sc[g] / dq), 0, 15) : 0;
            int lm = dminq > 0 ? clamp(nearest(mn[g] / dminq), 0, 15) : 0;
            put8(s, p + g, ls | lm << 4);
            float dl = dq * ls;
            float ml = dminq * lm;
            for (int l = 0; l < 16; l++) {
                q[16 * g + l] = dl > 0 ? clamp(nearest((x[o + 16 * g + l] + ml) / dl), 0, 3) : 0;
            }
        }
        pack2Bit(q, s, p + 16);
    }

    /** 2-bit codes: byte l of each 128-half holds elements l, l+32, l+64, l+96 at shifts 0, 2, 4, 6. */
    private static void pack2Bit(int[] q, MemorySegment s, long qs) {
        for (int n = 0; n < 256; n += 128) {
            for (int l = 0; l < 32; l++) {
                put8(s, qs + n / 4 + l, (q[n + l] & 3) | (q[n + l + 32] & 3) << 2 | (q[n + l + 64] & 3) << 4
                        | (q[n + l + 96] & 3) << 6);
            }
        }
    }

    /** The value of largest magnitude in {@code v[o..o+n)}, with its sign (the first one on ties). */
    private static float signedExtreme(float[] v, int o, int n) {
        float max = 0;
        float amax = 0;
        for (int j = 0; j < n; j++) {
            if (Math.abs(v[o + j]) > amax) {
                amax = Math.abs(v[o + j]);
                max = v[o + j];
            }
        }
        return max;
    }

    /** Q3_K: 16 groups of 16, 6-bit signed scales, 3-bit codes (2 low bits + a high-bit mask). */
    private static void q3K(float[] x, int o, MemorySegment s, long p) {
        float[] sc = new float[16];
        for (int g = 0; g < 16; g++) {
            sc[g] = signedExtreme(x, o + 16 * g, 16) / -4;
        }
        float maxSc = signedExtreme(sc, 0, 16);
        float d = maxSc / -32;
        putF16(s, p + 108, d);
        float dq = Float.float16ToFloat(Float.floatToFloat16(d));
        int[] ls = new int[16];
        for (int g = 0; g < 16; g++) {
            ls[g] = dq != 0 ? clamp(nearest(sc[g] / dq), -32, 31) : 0;
        }
        long scales = p + 96;
        for (int j = 0; j < 12; j++) {
            put8(s, scales + j, 0);
        }
        for (int j = 0; j < 16; j++) {
            int l = ls[j] + 32;
            if (j < 8) {
                put8(s, scales + j, l & 0xF);
            } else {
                put8(s, scales + j - 8, Dequantize.u8(s, scales + j - 8) | (l & 0xF) << 4);
            }
            put8(s, scales + 8 + j % 4, Dequantize.u8(s, scales + 8 + j % 4) | (l >> 4) << (2 * (j / 4)));
        }
        int[] q = new int[256];
        for (int g = 0; g < 16; g++) {
            float dl = dq * ls[g];
            for (int l = 0; l < 16; l++) {
                q[16 * g + l] = dl != 0 ? clamp(nearest(x[o + 16 * g + l] / dl), -4, 3) + 4 : 4;
            }
        }
        for (int j = 0; j < 32; j++) {
            put8(s, p + j, 0);
        }
        for (int j = 0; j < 256; j++) {
            if (q[j] > 3) {
                put8(s, p + j % 32, Dequantize.u8(s, p + j % 32) | 1 << (j / 32));
                q[j] -= 4;
            }
        }
        pack2Bit(q, s, p + 32);
    }

    /** Q6_K: 16 groups of 16, int8 scales, 6-bit codes (4 low bits in ql, 2 high bits in qh). */
    private static void q6K(float[] x, int o, MemorySegment s, long p) {
        float[] sc = new float[16];
        for (int g = 0; g < 16; g++) {
            sc[g] = signedExtreme(x, o + 16 * g, 16) / -32;
        }
        float maxSc = signedExtreme(sc, 0, 16);
        float d = maxSc / -128;
        putF16(s, p + 208, d);
        float dq = Float.float16ToFloat(Float.floatToFloat16(d));
        int[] q = new int[256];
        for (int g = 0; g < 16; g++) {
            int ls = dq != 0 ? clamp(nearest(sc[g] / dq), -128, 127) : 0;
            put8(s, p + 192 + g, ls);
            float dl = dq * ls;
            for (int l = 0; l < 16; l++) {
                q[16 * g + l] = dl != 0 ? clamp(nearest(x[o + 16 * g + l] / dl), -32, 31) + 32 : 32;
            }
        }
        for (int n = 0; n < 2; n++) {
            int b = 128 * n;
            for (int l = 0; l < 32; l++) {
                put8(s, p + 64L * n + l, (q[b + l] & 0xF) | (q[b + l + 64] & 0xF) << 4);
                put8(s, p + 64L * n + l + 32, (q[b + l + 32] & 0xF) | (q[b + l + 96] & 0xF) << 4);
                put8(s, p + 128 + 32L * n + l, (q[b + l] >> 4) | (q[b + l + 32] >> 4) << 2
                        | (q[b + l + 64] >> 4) << 4 | (q[b + l + 96] >> 4) << 6);
            }
        }
    }
}
