package io.strata.kernels.quant;

import io.strata.core.model.DType;
import io.strata.kernels.cpu.FloatCodec;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Scalar reference dequantisation of ggml's block formats, one plain loop per type following the definitions
 * of llama.cpp's {@code dequantize_row_*} (ggml-quants.c) over the block layouts of ggml-common.h: the
 * arithmetic is done in float in the same order, so a value here is the value llama.cpp computes. The vector
 * kernels are tested against this. F32/F16/BF16 decode through {@link FloatCodec}.
 */
public final class Dequantize {
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** MXFP4 (E2M1) code to value, doubled as in ggml's kvalues_mxfp4 (the scale carries the half). */
    static final byte[] KVALUES_MXFP4 = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

    private Dequantize() {
    }

    /**
     * Decodes {@code n} consecutive elements (a whole number of blocks) whose first block starts at byte
     * {@code offset} of {@code src} into {@code out[outOff..outOff+n)}.
     */
    public static void row(DType t, MemorySegment src, long offset, float[] out, int outOff, int n) {
        if (!t.isWholeBlocks(n)) {
            throw new IllegalArgumentException(n + " elements of " + t + " are not whole " + t.blockSize()
                    + "-element blocks");
        }
        if (!t.isQuantized()) {
            FloatCodec.decode(src.asSlice(offset, t.bytesFor(n)), t, 0, out, outOff, n);
            return;
        }
        int bs = t.blockSize();
        for (int b = 0; b < n / bs; b++) {
            long p = offset + (long) b * t.blockBytes();
            int o = outOff + b * bs;
            switch (t) {
                case Q8_0 -> q8_0(src, p, out, o);
                case Q4_0 -> q4_0(src, p, out, o);
                case Q4_1 -> q4_1(src, p, out, o);
                case Q5_0 -> q5_0(src, p, out, o);
                case Q5_1 -> q5_1(src, p, out, o);
                case MXFP4 -> mxfp4(src, p, out, o);
                case Q2_K -> q2K(src, p, out, o);
                case Q3_K -> q3K(src, p, out, o);
                case Q4_K -> q4K(src, p, out, o);
                case Q5_K -> q5K(src, p, out, o);
                case Q6_K -> q6K(src, p, out, o);
                default -> throw new IllegalArgumentException("no dequantiser for " + t);
            }
        }
    }

    /** A whole tensor's elements (at most {@code Integer.MAX_VALUE - 8}). */
    public static float[] all(DType t, MemorySegment src, long elements) {
        float[] out = new float[Math.toIntExact(elements)];
        row(t, src, 0, out, 0, out.length);
        return out;
    }

    static float f16(MemorySegment s, long p) {
        return Float.float16ToFloat(s.get(I16, p));
    }

    static int u8(MemorySegment s, long p) {
        return Byte.toUnsignedInt(s.get(ValueLayout.JAVA_BYTE, p));
    }

    /** ggml_e8m0_to_fp32_half: 2^(e - 128), denormal for e < 2. */
    static float e8m0Half(int e) {
        return Float.intBitsToFloat(e < 2 ? 0x00200000 << e : (e - 1) << 23);
    }

    private static void q8_0(MemorySegment s, long p, float[] y, int o) {
        float d = f16(s, p);
        for (int j = 0; j < 32; j++) {
            y[o + j] = s.get(ValueLayout.JAVA_BYTE, p + 2 + j) * d;
        }
    }

    private static void q4_0(MemorySegment s, long p, float[] y, int o) {
        float d = f16(s, p);
        for (int j = 0; j < 16; j++) {
            int q = u8(s, p + 2 + j);
            y[o + j] = ((q & 0x0F) - 8) * d;
            y[o + j + 16] = ((q >> 4) - 8) * d;
        }
    }

    private static void q4_1(MemorySegment s, long p, float[] y, int o) {
        float d = f16(s, p);
        float m = f16(s, p + 2);
        for (int j = 0; j < 16; j++) {
            int q = u8(s, p + 4 + j);
            y[o + j] = (q & 0x0F) * d + m;
            y[o + j + 16] = (q >> 4) * d + m;
        }
    }

    private static void q5_0(MemorySegment s, long p, float[] y, int o) {
        float d = f16(s, p);
        int qh = s.get(I32, p + 2);
        for (int j = 0; j < 16; j++) {
            int q = u8(s, p + 6 + j);
            int h0 = ((qh >>> j) << 4) & 0x10;
            int h1 = (qh >>> (j + 12)) & 0x10;
            y[o + j] = (((q & 0x0F) | h0) - 16) * d;
            y[o + j + 16] = (((q >> 4) | h1) - 16) * d;
        }
    }

    private static void q5_1(MemorySegment s, long p, float[] y, int o) {
        float d = f16(s, p);
        float m = f16(s, p + 2);
        int qh = s.get(I32, p + 4);
        for (int j = 0; j < 16; j++) {
            int q = u8(s, p + 8 + j);
            int h0 = ((qh >>> j) << 4) & 0x10;
            int h1 = (qh >>> (j + 12)) & 0x10;
            y[o + j] = ((q & 0x0F) | h0) * d + m;
            y[o + j + 16] = ((q >> 4) | h1) * d + m;
        }
    }

    private static void mxfp4(MemorySegment s, long p, float[] y, int o) {
        float d = e8m0Half(u8(s, p));
        for (int j = 0; j < 16; j++) {
            int q = u8(s, p + 1 + j);
            y[o + j] = KVALUES_MXFP4[q & 0x0F] * d;
            y[o + j + 16] = KVALUES_MXFP4[q >> 4] * d;
        }
    }

    private static void q2K(MemorySegment s, long p, float[] y, int o) {
        float d = f16(s, p + 80);
        float min = f16(s, p + 82);
        int is = 0;
        for (int n = 0; n < 256; n += 128) {
            long q = p + 16 + n / 4;
            for (int shift = 0; shift < 8; shift += 2) {
                for (int half = 0; half < 2; half++) {
                    int sc = u8(s, p + is++);
                    float dl = d * (sc & 0xF);
                    float ml = min * (sc >> 4);
                    for (int l = 0; l < 16; l++) {
                        y[o++] = dl * ((u8(s, q + 16 * half + l) >> shift) & 3) - ml;
                    }
                }
            }
        }
    }

    /** Q3_K's signed scale {@code j} (of 16), unpacked from the 12 scale bytes as ggml does. */
    static int q3KScale(MemorySegment s, long scales, int j) {
        int low = (u8(s, scales + (j & 7)) >> (4 * (j >> 3))) & 0xF;
        int high = (u8(s, scales + 8 + (j & 3)) >> (2 * (j >> 2))) & 3;
        return (low | high << 4) - 32;
    }

    private static void q3K(MemorySegment s, long p, float[] y, int o) {
        float dAll = f16(s, p + 108);
        int is = 0;
        int m = 1;
        for (int n = 0; n < 256; n += 128) {
            long q = p + 32 + n / 4;
            for (int shift = 0; shift < 8; shift += 2) {
                for (int half = 0; half < 2; half++) {
                    float dl = dAll * q3KScale(s, p + 96, is++);
                    for (int l = 16 * half; l < 16 * half + 16; l++) {
                        int hm = u8(s, p + l);
                        y[o++] = dl * (((u8(s, q + l) >> shift) & 3) - ((hm & m) != 0 ? 0 : 4));
                    }
                }
                m <<= 1;
            }
        }
    }

    /** ggml's get_scale_min_k4: the 6-bit scale ({@code [0]}) and min ({@code [1]}) of sub-block {@code j}. */
    static void scaleMinK4(MemorySegment s, long q, int j, int[] out) {
        if (j < 4) {
            out[0] = u8(s, q + j) & 63;
            out[1] = u8(s, q + j + 4) & 63;
        } else {
            out[0] = (u8(s, q + j + 4) & 0xF) | ((u8(s, q + j - 4) >> 6) << 4);
            out[1] = (u8(s, q + j + 4) >> 4) | ((u8(s, q + j) >> 6) << 4);
        }
    }

    private static void q4K(MemorySegment s, long p, float[] y, int o) {
        float d = f16(s, p);
        float min = f16(s, p + 2);
        int[] sm = new int[2];
        long q = p + 16;
        for (int j = 0; j < 8; j += 2) {
            scaleMinK4(s, p + 4, j, sm);
            float d1 = d * sm[0];
            float m1 = min * sm[1];
            scaleMinK4(s, p + 4, j + 1, sm);
            float d2 = d * sm[0];
            float m2 = min * sm[1];
            for (int l = 0; l < 32; l++) {
                y[o++] = d1 * (u8(s, q + l) & 0xF) - m1;
            }
            for (int l = 0; l < 32; l++) {
                y[o++] = d2 * (u8(s, q + l) >> 4) - m2;
            }
            q += 32;
        }
    }

    private static void q5K(MemorySegment s, long p, float[] y, int o) {
        float d = f16(s, p);
        float min = f16(s, p + 2);
        int[] sm = new int[2];
        long qh = p + 16;
        long ql = p + 48;
        int u1 = 1;
        int u2 = 2;
        for (int j = 0; j < 8; j += 2) {
            scaleMinK4(s, p + 4, j, sm);
            float d1 = d * sm[0];
            float m1 = min * sm[1];
            scaleMinK4(s, p + 4, j + 1, sm);
            float d2 = d * sm[0];
            float m2 = min * sm[1];
            for (int l = 0; l < 32; l++) {
                y[o++] = d1 * ((u8(s, ql + l) & 0xF) + ((u8(s, qh + l) & u1) != 0 ? 16 : 0)) - m1;
            }
            for (int l = 0; l < 32; l++) {
                y[o++] = d2 * ((u8(s, ql + l) >> 4) + ((u8(s, qh + l) & u2) != 0 ? 16 : 0)) - m2;
            }
            ql += 32;
            u1 <<= 2;
            u2 <<= 2;
        }
    }

    private static void q6K(MemorySegment s, long p, float[] y, int o) {
        float d = f16(s, p + 208);
        for (int n = 0; n < 2; n++) {
            long ql = p + 64L * n;
            long qh = p + 128 + 32L * n;
            long sc = p + 192 + 8L * n;
            int base = o + 128 * n;
            for (int l = 0; l < 32; l++) {
                int is = l / 16;
                int h = u8(s, qh + l);
                int q1 = ((u8(s, ql + l) & 0xF) | ((h & 3) << 4)) - 32;
                int q2 = ((u8(s, ql + l + 32) & 0xF) | (((h >> 2) & 3) << 4)) - 32;
                int q3 = ((u8(s, ql + l) >> 4) | (((h >> 4) & 3) << 4)) - 32;
                int q4 = ((u8(s, ql + l + 32) >> 4) | (((h >> 6) & 3) << 4)) - 32;
                y[base + l] = d * s.get(ValueLayout.JAVA_BYTE, sc + is) * q1;
                y[base + l + 32] = d * s.get(ValueLayout.JAVA_BYTE, sc + is + 2) * q2;
                y[base + l + 64] = d * s.get(ValueLayout.JAVA_BYTE, sc + is + 4) * q3;
                y[base + l + 96] = d * s.get(ValueLayout.JAVA_BYTE, sc + is + 6) * q4;
            }
        }
    }
}
