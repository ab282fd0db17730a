package io.strata.kernels.quant;

import io.strata.core.model.DType;
import io.strata.kernels.cpu.NativeKQuantInt8;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Q4_K, Q5_K and Q6_K matvecs in llama.cpp's CPU arithmetic: x quantised to Q8_K ({@link Q8KActivations}), each
 * weight super-block's dot product with it an exact integer sum, scaled once per super-block in float. Why: the
 * float path's unpacking to floats, not memory, bounded it (0.30 of a streaming read for Q4_K); integers are what
 * AVX-512 VNNI multiplies fast, and llama.cpp's logits (the yardstick) come from this arithmetic. The native twins
 * ({@link NativeKQuantInt8}, strata_kq8.c) run when available and give the same bits.
 *
 * <p>The canonical arithmetic (one super-block b of 256 elements of a row, x's Q8_K block b with scale dx, codes
 * x[e] and bsums[16]), 16 int32 lanes, element e in lane {@code lane(e) = 4 ((e & 63) >> 4) + 2 ((e >> 6) & 1)
 * + ((e >> 3) & 1)} (what vpdpbusd over 64-byte chunks of codes in element order, vpackssdw of chunks 2m and
 * 2m + 1 and vpmaddwd with the scales give in C):
 * <ul>
 * <li>Q4_K, Q5_K (codes q in 0..15 / 0..31, 6-bit scales sc[8] and mins m[8] per 32, f16 d and dmin):
 *     {@code I[L] = sum over e in lane L of sc[e >> 5] * q[e] * x[e]}, {@code F[L] = fma((float) I[L], d * dx,
 *     F[L])}; and 8 lanes for the mins: {@code J[j] = m[j] * (bsums[2j] + bsums[2j + 1])},
 *     {@code G[j] = fma(-(float) J[j], dmin * dx, G[j])};
 * <li>Q6_K (codes q + 32 = u in 0..63, int8 scales sc[16] per 16, f16 d):
 *     {@code K[L] = sum over e in lane L of sc[e >> 4] * u[e] * x[e] - 32 * sc[L] * bsums[L]},
 *     {@code F[L] = fma((float) K[L], d * dx, F[L])};
 * </ul>
 * where {@code d * dx} is one float multiply, F and G start at +0 for blocks b = 0, 1, ... in order (Q6_K's G
 * stays 0), and the row's value is {@code (((0f + F[0]) + F[1]) + ... + F[15]) + G[0] + ... + G[7]}. The integer sums are exact (bounded well inside int), so any
 * order gives them; the float operations are the same in Java and C. Mathematically each block contributes
 * {@code d dx sum sc q x - dmin dx sum m bsum} (Q6_K: {@code d dx sum sc (u - 32) x}), llama.cpp's
 * ggml_vec_dot_q4_K_q8_K / q5_K / q6_K; only their float rounding differs.
 *
 * <p>The batch form quantises each input the same way and unpacks each weight block once for all inputs, so each
 * input's outputs are those of {@link #rows} on it; except that where the CPU has AMX-INT8 a native batch of
 * {@link NativeKQuantInt8#TILES_MIN} or more inputs runs the tile form (the same integer products, another float
 * order: agreement to rounding; see {@link NativeKQuantInt8}).
 */
final class KQuantInt8 {
    /** Whether 512-bit vectors are native here (the Java kernel's vector form is written for them). */
    private static final boolean V512 = IntVector.SPECIES_PREFERRED.vectorBitSize() >= 512;
    private static final VectorSpecies<Byte> B32 = ByteVector.SPECIES_256;
    private static final VectorSpecies<Short> S32 = ShortVector.SPECIES_512;
    private static final VectorSpecies<Long> L8 = LongVector.SPECIES_512;
    private static final VectorSpecies<Integer> I16 = IntVector.SPECIES_512;
    private static final VectorSpecies<Float> F16 = FloatVector.SPECIES_512;
    /** Float lanes per input: F[16], then G[8]. */
    static final int ACC = 24;
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private KQuantInt8() {
    }

    /** Whether this class has an int8-activation kernel for t. */
    static boolean supports(DType t) {
        return t == DType.Q4_K || t == DType.Q5_K || t == DType.Q6_K;
    }

    /** y[yOff + r] = row r . x[xOff ..] for r in [from, to), in this arithmetic; quantises x itself. */
    static void rows(DType t, MemorySegment w, long rowBytes, int nb, float[] x, int xOff, float[] y, int yOff,
                     int from, int to) {
        check(t);
        if (from == to) {
            return;
        }
        Q8KActivations.Buffer buf = Q8KActivations.buffer();
        byte[] xq = quantized(buf, x, xOff, 0, 1, nb);
        if (NativeKQuantInt8.rows(t, w, rowBytes, nb, buf.segment(), y, yOff, from, to)) {
            return;
        }
        Scratch s = SCRATCH.get();
        s.accumulators(1);
        boolean q6 = t == DType.Q6_K;
        for (int r = from; r < to; r++) {
            java.util.Arrays.fill(s.f, 0, ACC, 0f);
            long row = r * rowBytes;
            for (int b = 0; b < nb; b++) {
                s.unpack(t, w, row + (long) t.blockBytes() * b);
                s.step(q6, xq, Q8KActivations.BLOCK_BYTES * b, 0);
            }
            y[yOff + r] = s.sum(0);
        }
    }

    /**
     * count inputs x[xOff + i*xStride ..] -> y[yOff + i*yStride + r]; each bit-identical to rows(...) on it unless
     * the tile form runs ({@link NativeKQuantInt8#tiles()} and count >= {@link NativeKQuantInt8#TILES_MIN}).
     */
    static void batch(DType t, MemorySegment w, long rowBytes, int nb, float[] x, int xOff, int xStride, int count,
                      float[] y, int yOff, int yStride, int from, int to) {
        check(t);
        if (from == to || count == 0) {
            return;
        }
        int bytes = nb * Q8KActivations.BLOCK_BYTES;
        Q8KActivations.Buffer buf = Q8KActivations.buffer();
        byte[] xq = quantized(buf, x, xOff, xStride, count, nb);
        if (NativeKQuantInt8.batch(t, w, rowBytes, nb, buf.segment(), bytes, count, y, yOff, yStride, from, to)) {
            return;
        }
        Scratch s = SCRATCH.get();
        s.accumulators(count);
        boolean q6 = t == DType.Q6_K;
        for (int r = from; r < to; r++) {
            java.util.Arrays.fill(s.f, 0, ACC * count, 0f);
            long row = r * rowBytes;
            for (int b = 0; b < nb; b++) {
                s.unpack(t, w, row + (long) t.blockBytes() * b); // once for all inputs
                for (int i = 0; i < count; i++) {
                    s.step(q6, xq, i * bytes + Q8KActivations.BLOCK_BYTES * b, i);
                }
            }
            for (int i = 0; i < count; i++) {
                y[yOff + i * yStride + r] = s.sum(i);
            }
        }
    }

    /**
     * This thread's buffer holding {@code count} inputs as Q8_K blocks (input i at byte {@code i * nb * 292}),
     * quantised now unless they are bit for bit the inputs it already holds ({@link SeenInputs}).
     */
    private static byte[] quantized(Q8KActivations.Buffer buf, float[] x, int xOff, int xStride, int count, int nb) {
        int bytes = nb * Q8KActivations.BLOCK_BYTES;
        int cols = 256 * nb;
        SeenInputs seen = buf.seen();
        if (seen.same(x, xOff, xStride, count, cols)) {
            return buf.bytes(Math.multiplyExact(bytes, count));
        }
        seen.forget();
        byte[] xq = buf.bytes(Math.multiplyExact(bytes, count));
        for (int i = 0; i < count; i++) {
            Q8KActivations.quantize(x, xOff + i * xStride, nb, xq, i * bytes);
        }
        seen.remember(x, xOff, xStride, count, cols);
        return xq;
    }

    /** The canonical lane of element e (0..255) of a super-block. */
    static int lane(int e) {
        return 4 * ((e & 63) >> 4) + 2 * ((e >> 6) & 1) + ((e >> 3) & 1);
    }

    private static void check(DType t) {
        if (!supports(t)) {
            throw new IllegalArgumentException("no int8-activation kernel for " + t);
        }
    }

    /** A thread's unpacked weight block and float accumulators. */
    static final class Scratch {
        /** The block's codes (Q6_K: u = q + 32), in element order. */
        final byte[] q = new byte[256];
        /**
         * Per chunk c and quad k (elements 64c + 4k ..), at 32c + 2k (the vector form's int pairs; the odd places
         * hold the same value): the scale of those elements.
         */
        final int[] sl = new int[128];
        /** One block-input's scaled quad sums: chunk c, half h, quad k at 32 c + 16 h + 2k. */
        private final int[] il = new int[128];
        /** Per element group: the scale (Q4_K/Q5_K: 8 of 32, Q6_K: 16 of 16). */
        final int[] sc = new int[16];
        /** Q4_K/Q5_K: m[j] at 2j and 2j + 1; Q6_K: 32 * sc[L] at L. */
        final int[] m = new int[16];
        final byte[] raw = new byte[256];
        float d;
        float dmin;
        /** Per input, {@value #ACC} floats apart: the 16 F lanes, then the 8 G lanes. */
        float[] f = new float[ACC];

        void accumulators(int count) {
            if (f.length < ACC * count) {
                f = new float[ACC * count];
            }
        }

        void unpack(DType t, MemorySegment w, long p) {
            MemorySegment.copy(w, ValueLayout.JAVA_BYTE, p, raw, 0, t.blockBytes());
            switch (t) {
                case Q4_K -> {
                    header();
                    for (int k = 0; k < 4; k++) {
                        ByteVector c = ByteVector.fromArray(B32, raw, 16 + 32 * k);
                        c.and((byte) 15).intoArray(q, 64 * k);
                        c.lanewise(VectorOperators.LSHR, 4).and((byte) 15).intoArray(q, 64 * k + 32);
                    }
                }
                case Q5_K -> {
                    header();
                    ByteVector h = ByteVector.fromArray(B32, raw, 16);
                    for (int k = 0; k < 4; k++) {
                        ByteVector c = ByteVector.fromArray(B32, raw, 48 + 32 * k);
                        c.and((byte) 15).or(h.lanewise(VectorOperators.LSHR, 2 * k).and((byte) 1)
                                .lanewise(VectorOperators.LSHL, 4)).intoArray(q, 64 * k);
                        c.lanewise(VectorOperators.LSHR, 4).and((byte) 15).or(h.lanewise(VectorOperators.LSHR,
                                2 * k + 1).and((byte) 1).lanewise(VectorOperators.LSHL, 4)).intoArray(q, 64 * k + 32);
                    }
                }
                case Q6_K -> {
                    for (int h = 0; h < 2; h++) {
                        ByteVector a = ByteVector.fromArray(B32, raw, 64 * h);
                        ByteVector b = ByteVector.fromArray(B32, raw, 64 * h + 32);
                        ByteVector hb = ByteVector.fromArray(B32, raw, 128 + 32 * h);
                        a.and((byte) 15).or(hb.and((byte) 3).lanewise(VectorOperators.LSHL, 4))
                                .intoArray(q, 128 * h);
                        b.and((byte) 15).or(hb.lanewise(VectorOperators.LSHL, 2).and((byte) 0x30))
                                .intoArray(q, 128 * h + 32);
                        a.lanewise(VectorOperators.LSHR, 4).and((byte) 15).or(hb.and((byte) 0x30))
                                .intoArray(q, 128 * h + 64);
                        b.lanewise(VectorOperators.LSHR, 4).and((byte) 15).or(hb.lanewise(VectorOperators.LSHR, 2)
                                .and((byte) 0x30)).intoArray(q, 128 * h + 96);
                    }
                    for (int g = 0; g < 16; g++) {
                        sc[g] = raw[192 + g];
                        m[g] = 32 * sc[g];
                    }
                    d = Float.float16ToFloat((short) ((raw[208] & 0xFF) | raw[209] << 8));
                    dmin = 0f;
                }
                default -> throw new IllegalArgumentException("no int8-activation kernel for " + t);
            }
            // the scale of quad k of chunk c at 32c + 2k; the odd places (multiplying the vector form's scratch
            // lanes) get the same values: runs of 8 (Q6_K, a scale per 16) or 16 (a scale per 32)
            if (t == DType.Q6_K) {
                for (int g = 0; g < 16; g++) {
                    java.util.Arrays.fill(sl, 8 * g, 8 * g + 8, sc[g]);
                }
            } else {
                for (int g = 0; g < 8; g++) {
                    java.util.Arrays.fill(sl, 16 * g, 16 * g + 16, sc[g]);
                }
            }
        }

        /** Q4_K/Q5_K: d, dmin and the 6-bit scales and mins (ggml's get_scale_min_k4). */
        private void header() {
            d = Float.float16ToFloat((short) ((raw[0] & 0xFF) | raw[1] << 8));
            dmin = Float.float16ToFloat((short) ((raw[2] & 0xFF) | raw[3] << 8));
            for (int j = 0; j < 8; j++) {
                int s;
                int mm;
                if (j < 4) {
                    s = raw[4 + j] & 63;
                    mm = raw[8 + j] & 63;
                } else {
                    s = (raw[8 + j] & 0xF) | ((raw[j] & 0xFF) >> 6) << 4;
                    mm = ((raw[8 + j] & 0xFF) >> 4) | ((raw[4 + j] & 0xFF) >> 6) << 4;
                }
                sc[j] = s;
                m[2 * j] = mm;
                m[2 * j + 1] = mm;
            }
        }

        /**
         * The unpacked block against the Q8_K block at xq[p ..] into input i's lanes (the canonical steps). With
         * 512-bit vectors: 32 codes and 32 x codes widened to shorts and multiplied (exact), adjacent products
         * added in pairs within int lanes and pairs of those within long lanes (shifts of the reinterpreted
         * vectors), giving the 8 lanes of those 32 elements; else the same integers by scalar loops.
         */
        void step(boolean q6, byte[] xq, int p, int i) {
            float dx = (float) Q8KActivations.F32.get(xq, p);
            float dbs = d * dx;
            float mbs = dmin * dx;
            if (!V512) {
                stepScalar(q6, xq, p, i, dbs, mbs);
                return;
            }
            int qs = p + Q8KActivations.QS;
            // int lanes in pairs: the even ones carry the 8 scaled quad sums of 32 elements, the odd ones scratch
            for (int c = 0; c < 4; c++) {
                quads(q, 64 * c, xq, qs + 64 * c).mul(IntVector.fromArray(I16, sl, 32 * c)).intoArray(il, 32 * c);
                quads(q, 64 * c + 32, xq, qs + 64 * c + 32).mul(IntVector.fromArray(I16, sl, 32 * c + 16))
                        .intoArray(il, 32 * c + 16);
            }
            int bs = p + Q8KActivations.BSUMS;
            for (int lane = 0; lane < 16; lane++) {
                // lane 8h + 4u + 2 par + v: quads 2(2u + v) and 2(2u + v) + 1 of half h of chunks par and par + 2
                int base = 32 * ((lane >> 1) & 1) + 16 * (lane >> 3) + 8 * ((lane >> 2) & 1) + 4 * (lane & 1);
                int a = il[base] + il[base + 2] + il[base + 64] + il[base + 66];
                ia[lane] = q6 ? a - m[lane] * bsum(xq, bs, lane) : a;
            }
            int o = ACC * i;
            FloatVector f0 = FloatVector.fromArray(F16, f, o);
            f0 = ((FloatVector) IntVector.fromArray(I16, ia, 0).convert(VectorOperators.I2F, 0))
                    .fma(FloatVector.broadcast(F16, dbs), f0);
            f0.intoArray(f, o);
            if (!q6) {
                mins(xq, bs, o, mbs);
            }
        }

        /** G[j] = fma(-(float) (m[j] * (bsums[2j] + bsums[2j + 1])), mb, G[j]) (Q4_K/Q5_K). */
        private void mins(byte[] xq, int bs, int o, float mb) {
            for (int j = 0; j < 8; j++) {
                int jj = m[2 * j] * (bsum(xq, bs, 2 * j) + bsum(xq, bs, 2 * j + 1));
                f[o + 16 + j] = Math.fma(-(float) jj, mb, f[o + 16 + j]);
            }
        }

        private static int bsum(byte[] xq, int bs, int g) {
            return (xq[bs + 2 * g] & 0xFF) | xq[bs + 2 * g + 1] << 8;
        }

        /**
         * The 8 lanes (sums of 4 adjacent products) of q[qo, qo + 32) . x[xo, xo + 32), as the even int lanes of
         * the result (each the low half of a long lane; the odd ones its sign).
         */
        private static IntVector quads(byte[] q, int qo, byte[] x, int xo) {
            ShortVector a = (ShortVector) ByteVector.fromArray(B32, q, qo).convertShape(VectorOperators.B2S, S32, 0);
            ShortVector b = (ShortVector) ByteVector.fromArray(B32, x, xo).convertShape(VectorOperators.B2S, S32, 0);
            IntVector v = a.mul(b).reinterpretAsInts();
            IntVector pair = v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .add(v.lanewise(VectorOperators.ASHR, 16));
            LongVector l = pair.reinterpretAsLongs();
            return l.lanewise(VectorOperators.LSHL, 32).lanewise(VectorOperators.ASHR, 32)
                    .add(l.lanewise(VectorOperators.ASHR, 32)).reinterpretAsInts();
        }

        /** {@link #step}'s integers and float steps by scalar loops (where 512-bit vectors are not native). */
        void stepScalar(boolean q6, byte[] xq, int p, int i, float db, float mb) {
            int qs = p + Q8KActivations.QS;
            int o = ACC * i;
            java.util.Arrays.fill(ia, 0);
            for (int c = 0; c < 4; c++) {
                for (int k = 0; k < 16; k++) { // quad k of chunk c: elements 64c + 4k ..
                    int e0 = 64 * c + 4 * k;
                    int part = 0;
                    for (int e = e0; e < e0 + 4; e++) {
                        part += q[e] * xq[qs + e];
                    }
                    ia[lane(e0)] += sl[32 * c + 2 * k] * part;
                }
            }
            int bs = p + Q8KActivations.BSUMS;
            for (int lane = 0; lane < 16; lane++) {
                int a = q6 ? ia[lane] - m[lane] * bsum(xq, bs, lane) : ia[lane];
                f[o + lane] = Math.fma((float) a, db, f[o + lane]);
            }
            if (!q6) {
                mins(xq, bs, o, mb);
            }
        }

        private final int[] ia = new int[16];

        /** Input i's row value: its 16 lanes added in index order from 0f. */
        float sum(int i) {
            float s = 0f;
            for (int lane = 0; lane < ACC; lane++) {
                s += f[ACC * i + lane];
            }
            return s;
        }
    }
}
