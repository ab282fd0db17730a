package io.strata.kernels.quant;

import io.strata.kernels.cpu.Lanes;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API dot products of one quantised row with a float vector, read straight from the blocks in a
 * {@link MemorySegment}: L codes at a time are unpacked in byte lanes (masks and shifts), widened to float lanes
 * and multiplied with x; each group's partial sum is scaled once by its (super-scale x group-scale). Terms that
 * do not depend on the row (a group's min times the sum of x over the group) use group sums of x the caller
 * computes once per matvec. Accumulation order is fixed and the horizontal sum adds lanes in index order
 * ({@link Lanes}), so a row gives the same bits in every JIT state.
 */
final class BlockDot {
    static final VectorSpecies<Float> FS = pickSpecies();
    static final int L = FS.length();
    private static final VectorSpecies<Byte> BS = VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8));
    private static final VectorSpecies<Integer> IS = VectorSpecies.of(int.class, FS.vectorShape());
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final int[] IOTA = new int[64];
    private static final ByteVector MXFP4_MAGNITUDES;

    static {
        for (int i = 0; i < IOTA.length; i++) {
            IOTA[i] = i;
        }
        byte[] mags = new byte[L];
        System.arraycopy(Dequantize.KVALUES_MXFP4, 0, mags, 0, 8);
        MXFP4_MAGNITUDES = ByteVector.fromArray(BS, mags, 0);
    }

    private BlockDot() {
    }

    /** 8 or 16 float lanes: a quantised group (16 or 32 codes) is a whole number of vectors. */
    private static VectorSpecies<Float> pickSpecies() {
        int n = FloatVector.SPECIES_PREFERRED.length();
        if (n == 8 || n == 16) {
            return FloatVector.SPECIES_PREFERRED;
        }
        return n < 8 ? FloatVector.SPECIES_256 : FloatVector.SPECIES_512;
    }

    private static ByteVector load(MemorySegment w, long p) {
        return ByteVector.fromMemorySegment(BS, w, p, LE);
    }

    private static FloatVector f(ByteVector b) {
        return (FloatVector) b.convertShape(VectorOperators.B2F, FS, 0);
    }

    private static IntVector i(ByteVector b) {
        return (IntVector) b.convertShape(VectorOperators.B2I, IS, 0);
    }

    /**
     * L bytes widened to int lanes (sign-extended: a field of bits 0-7 extracted by shift and mask is exact).
     * The K-quants shift by a count that varies per chunk, which C2 compiles for int lanes but not for byte
     * lanes (x86 has no byte shifts; variable byte shifts fall back to a boxed Java loop).
     */
    private static IntVector ints(MemorySegment w, long p) {
        return i(load(w, p));
    }

    private static FloatVector f(IntVector v) {
        return (FloatVector) v.convert(VectorOperators.I2F, 0);
    }

    private static FloatVector x(float[] x, int at) {
        return FloatVector.fromArray(FS, x, at);
    }

    private static FloatVector scale(float s) {
        return FloatVector.broadcast(FS, s);
    }

    /** Bits {@code from .. from+L-1} of {@code word}, shifted to bit 4, one per int lane. */
    private static IntVector highBits(IntVector word, int from) {
        return word.lanewise(VectorOperators.LSHR, IntVector.fromArray(IS, IOTA, from)).and(1)
                .lanewise(VectorOperators.LSHL, 4);
    }

    static float q8_0(MemorySegment w, long off, int nb, float[] x, int xo, float[] lanes) {
        FloatVector acc = FloatVector.zero(FS);
        for (int b = 0; b < nb; b++) {
            long p = off + 34L * b;
            int xb = xo + 32 * b;
            FloatVector s = FloatVector.zero(FS);
            for (int j = 0; j < 32; j += L) {
                s = f(load(w, p + 2 + j)).fma(x(x, xb + j), s);
            }
            acc = s.fma(scale(Dequantize.f16(w, p)), acc);
        }
        return Lanes.sum(acc, lanes);
    }

    static float q4_0(MemorySegment w, long off, int nb, float[] x, int xo, float[] lanes) {
        FloatVector acc = FloatVector.zero(FS);
        for (int b = 0; b < nb; b++) {
            long p = off + 18L * b;
            int xb = xo + 32 * b;
            FloatVector s = FloatVector.zero(FS);
            for (int j = 0; j < 16; j += L) {
                ByteVector q = load(w, p + 2 + j);
                s = f(q.and((byte) 0x0F).sub((byte) 8)).fma(x(x, xb + j), s);
                s = f(q.lanewise(VectorOperators.LSHR, 4).sub((byte) 8)).fma(x(x, xb + 16 + j), s);
            }
            acc = s.fma(scale(Dequantize.f16(w, p)), acc);
        }
        return Lanes.sum(acc, lanes);
    }

    /** Q4_1: d * sum(q x) + m * sum(x); {@code xs} holds the sums of x per 32-element block. */
    static float q4_1(MemorySegment w, long off, int nb, float[] x, int xo, float[] xs, float[] lanes) {
        FloatVector acc = FloatVector.zero(FS);
        float mins = 0;
        for (int b = 0; b < nb; b++) {
            long p = off + 20L * b;
            int xb = xo + 32 * b;
            FloatVector s = FloatVector.zero(FS);
            for (int j = 0; j < 16; j += L) {
                ByteVector q = load(w, p + 4 + j);
                s = f(q.and((byte) 0x0F)).fma(x(x, xb + j), s);
                s = f(q.lanewise(VectorOperators.LSHR, 4)).fma(x(x, xb + 16 + j), s);
            }
            acc = s.fma(scale(Dequantize.f16(w, p)), acc);
            mins += Dequantize.f16(w, p + 2) * xs[b];
        }
        return Lanes.sum(acc, lanes) + mins;
    }

    static float q5_0(MemorySegment w, long off, int nb, float[] x, int xo, float[] lanes) {
        FloatVector acc = FloatVector.zero(FS);
        for (int b = 0; b < nb; b++) {
            long p = off + 22L * b;
            int xb = xo + 32 * b;
            IntVector qh = IntVector.broadcast(IS, w.get(Dequantize.I32, p + 2));
            FloatVector s = FloatVector.zero(FS);
            for (int j = 0; j < 16; j += L) {
                ByteVector q = load(w, p + 6 + j);
                IntVector lo = i(q.and((byte) 0x0F)).or(highBits(qh, j)).sub(16);
                IntVector hi = i(q.lanewise(VectorOperators.LSHR, 4)).or(highBits(qh, 16 + j)).sub(16);
                s = f(lo).fma(x(x, xb + j), s);
                s = f(hi).fma(x(x, xb + 16 + j), s);
            }
            acc = s.fma(scale(Dequantize.f16(w, p)), acc);
        }
        return Lanes.sum(acc, lanes);
    }

    static float q5_1(MemorySegment w, long off, int nb, float[] x, int xo, float[] xs, float[] lanes) {
        FloatVector acc = FloatVector.zero(FS);
        float mins = 0;
        for (int b = 0; b < nb; b++) {
            long p = off + 24L * b;
            int xb = xo + 32 * b;
            IntVector qh = IntVector.broadcast(IS, w.get(Dequantize.I32, p + 4));
            FloatVector s = FloatVector.zero(FS);
            for (int j = 0; j < 16; j += L) {
                ByteVector q = load(w, p + 8 + j);
                s = f(i(q.and((byte) 0x0F)).or(highBits(qh, j))).fma(x(x, xb + j), s);
                s = f(i(q.lanewise(VectorOperators.LSHR, 4)).or(highBits(qh, 16 + j))).fma(x(x, xb + 16 + j), s);
            }
            acc = s.fma(scale(Dequantize.f16(w, p)), acc);
            mins += Dequantize.f16(w, p + 2) * xs[b];
        }
        return Lanes.sum(acc, lanes) + mins;
    }

    /** E2M1 code (sign bit 3, magnitude bits 0-2) to ggml's doubled value, by a lane table lookup. */
    private static ByteVector e2m1(ByteVector code) {
        VectorShuffle<Byte> idx = code.and((byte) 7).toShuffle();
        return MXFP4_MAGNITUDES.rearrange(idx)
                .lanewise(VectorOperators.NEG, code.and((byte) 8).compare(VectorOperators.NE, (byte) 0));
    }

    static float mxfp4(MemorySegment w, long off, int nb, float[] x, int xo, float[] lanes) {
        FloatVector acc = FloatVector.zero(FS);
        for (int b = 0; b < nb; b++) {
            long p = off + 17L * b;
            int xb = xo + 32 * b;
            FloatVector s = FloatVector.zero(FS);
            for (int j = 0; j < 16; j += L) {
                ByteVector q = load(w, p + 1 + j);
                s = f(e2m1(q.and((byte) 0x0F))).fma(x(x, xb + j), s);
                s = f(e2m1(q.lanewise(VectorOperators.LSHR, 4))).fma(x(x, xb + 16 + j), s);
            }
            acc = s.fma(scale(Dequantize.e8m0Half(Dequantize.u8(w, p))), acc);
        }
        return Lanes.sum(acc, lanes);
    }

    /*
     * The K-quants run in two phases per row: a scalar pass decodes every block's group scales into dsc (and adds
     * up the min terms), then one flat loop over chunks of L codes finds each chunk's bytes, shift and group from
     * its element index. No call that C2 might not inline happens while a vector is live (one would box the
     * vectors: 100-1000x slower), and the single loop body stays within C2's inlining budget. Codes are unpacked
     * in int lanes (see ints()).
     */

    /** The 8 group scales d * sc of each Q4_K / Q5_K block; returns sum over groups of dmin * m_g * xs[g]. */
    private static float scalesK(MemorySegment w, long off, int nb, int blockBytes, float[] xs, float[] dsc,
                                 int[] sm) {
        float mins = 0;
        for (int b = 0; b < nb; b++) {
            long p = off + (long) blockBytes * b;
            float d = Dequantize.f16(w, p);
            float dmin = Dequantize.f16(w, p + 2);
            for (int g = 0; g < 8; g++) {
                Dequantize.scaleMinK4(w, p + 4, g, sm);
                dsc[8 * b + g] = d * sm[0];
                mins += dmin * sm[1] * xs[8 * b + g];
            }
        }
        return mins;
    }

    /** Q4_K: 8 groups of 32 nibbles; {@code xs} holds sums of x per 32 elements. */
    static float q4K(MemorySegment w, long off, int nb, float[] x, int xo, float[] xs, float[] lanes, int[] sm,
                     float[] dsc) {
        float mins = scalesK(w, off, nb, 144, xs, dsc, sm);
        FloatVector acc = FloatVector.zero(FS);
        int per = 256 / L;
        for (int c = 0, n = nb * per; c < n; c++) {
            int b = c / per;
            int e = (c - b * per) * L;
            int g = e >> 5;
            IntVector q = ints(w, off + 144L * b + 16 + 32 * (g >> 1) + (e & 31))
                    .lanewise(VectorOperators.LSHR, 4 * (g & 1)).and(0x0F);
            acc = f(q).mul(x(x, xo + 256 * b + e)).fma(scale(dsc[8 * b + g]), acc);
        }
        return Lanes.sum(acc, lanes) - mins;
    }

    /** Q5_K: Q4_K's nibbles plus one high bit per code in 32 bytes (bit g of byte l for group g). */
    static float q5K(MemorySegment w, long off, int nb, float[] x, int xo, float[] xs, float[] lanes, int[] sm,
                     float[] dsc) {
        float mins = scalesK(w, off, nb, 176, xs, dsc, sm);
        FloatVector acc = FloatVector.zero(FS);
        int per = 256 / L;
        for (int c = 0, n = nb * per; c < n; c++) {
            int b = c / per;
            int e = (c - b * per) * L;
            long p = off + 176L * b;
            int g = e >> 5;
            int l = e & 31;
            IntVector lo = ints(w, p + 48 + 32 * (g >> 1) + l).lanewise(VectorOperators.LSHR, 4 * (g & 1))
                    .and(0x0F);
            IntVector hi = ints(w, p + 16 + l).lanewise(VectorOperators.LSHR, g).and(1)
                    .lanewise(VectorOperators.LSHL, 4);
            acc = f(lo.or(hi)).mul(x(x, xo + 256 * b + e)).fma(scale(dsc[8 * b + g]), acc);
        }
        return Lanes.sum(acc, lanes) - mins;
    }

    /**
     * Q6_K: element e of a block sits in half h = e/128, quarter k = (e/32)%4, lane l = e%32: low 4 bits in
     * ql[64h + 32(k%2) + l] (high nibble for k >= 2), high 2 bits at shift 2k of qh[32h + l], scale sc[e/16].
     */
    static float q6K(MemorySegment w, long off, int nb, float[] x, int xo, float[] lanes, float[] dsc) {
        for (int b = 0; b < nb; b++) {
            long p = off + 210L * b;
            float d = Dequantize.f16(w, p + 208);
            for (int g = 0; g < 16; g++) {
                dsc[16 * b + g] = d * w.get(ValueLayout.JAVA_BYTE, p + 192 + g);
            }
        }
        FloatVector acc = FloatVector.zero(FS);
        int per = 256 / L;
        for (int c = 0, n = nb * per; c < n; c++) {
            int b = c / per;
            int e = (c - b * per) * L;
            long p = off + 210L * b;
            int h = e >> 7;
            int k = (e >> 5) & 3;
            int l = e & 31;
            IntVector lo = ints(w, p + 64 * h + 32 * (k & 1) + l).lanewise(VectorOperators.LSHR, 4 * (k >> 1))
                    .and(0x0F);
            IntVector hi = ints(w, p + 128 + 32 * h + l).lanewise(VectorOperators.LSHR, 2 * k).and(3)
                    .lanewise(VectorOperators.LSHL, 4);
            acc = f(lo.or(hi).sub(32)).mul(x(x, xo + 256 * b + e)).fma(scale(dsc[16 * b + (e >> 4)]), acc);
        }
        return Lanes.sum(acc, lanes);
    }

    /**
     * Q3_K: element e in half h = e/128, quarter j = (e/32)%4, lane l = e%32: 2 low bits at shift 2j of
     * qs[32h + l], the high bit at bit 4h + j of hmask[l] (set means +0, clear means -4), scale e/16.
     */
    static float q3K(MemorySegment w, long off, int nb, float[] x, int xo, float[] lanes, float[] dsc) {
        for (int b = 0; b < nb; b++) {
            long p = off + 110L * b;
            float d = Dequantize.f16(w, p + 108);
            for (int g = 0; g < 16; g++) {
                dsc[16 * b + g] = d * Dequantize.q3KScale(w, p + 96, g);
            }
        }
        FloatVector acc = FloatVector.zero(FS);
        int per = 256 / L;
        for (int c = 0, n = nb * per; c < n; c++) {
            int b = c / per;
            int e = (c - b * per) * L;
            long p = off + 110L * b;
            int h = e >> 7;
            int j = (e >> 5) & 3;
            int l = e & 31;
            IntVector q = ints(w, p + 32 + 32 * h + l).lanewise(VectorOperators.LSHR, 2 * j).and(3);
            IntVector hb = ints(w, p + l).lanewise(VectorOperators.LSHR, 4 * h + j).and(1);
            IntVector v = q.add(hb.lanewise(VectorOperators.LSHL, 2)).sub(4);
            acc = f(v).mul(x(x, xo + 256 * b + e)).fma(scale(dsc[16 * b + (e >> 4)]), acc);
        }
        return Lanes.sum(acc, lanes);
    }

    /** Q2_K (layout as Q3_K's low bits, 4-bit scale and min per 16); {@code xs} holds sums of x per 16. */
    static float q2K(MemorySegment w, long off, int nb, float[] x, int xo, float[] xs, float[] lanes, float[] dsc) {
        float mins = 0;
        for (int b = 0; b < nb; b++) {
            long p = off + 84L * b;
            float d = Dequantize.f16(w, p + 80);
            float dmin = Dequantize.f16(w, p + 82);
            for (int g = 0; g < 16; g++) {
                int sc = Dequantize.u8(w, p + g);
                dsc[16 * b + g] = d * (sc & 0xF);
                mins += dmin * (sc >> 4) * xs[16 * b + g];
            }
        }
        FloatVector acc = FloatVector.zero(FS);
        int per = 256 / L;
        for (int c = 0, n = nb * per; c < n; c++) {
            int b = c / per;
            int e = (c - b * per) * L;
            IntVector q = ints(w, off + 84L * b + 16 + 32 * (e >> 7) + (e & 31))
                    .lanewise(VectorOperators.LSHR, 2 * ((e >> 5) & 3)).and(3);
            acc = f(q).mul(x(x, xo + 256 * b + e)).fma(scale(dsc[16 * b + (e >> 4)]), acc);
        }
        return Lanes.sum(acc, lanes) - mins;
    }
}
