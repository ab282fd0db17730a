package io.strata.kernels.quant;

import io.strata.kernels.cpu.Lanes;
import java.lang.foreign.MemorySegment;
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

    /** Q4_K: 8 groups of 32 nibbles; {@code xs} holds sums of x per 32 elements. */
    static float q4K(MemorySegment w, long off, int nb, float[] x, int xo, float[] xs, float[] lanes, int[] sm) {
        FloatVector acc = FloatVector.zero(FS);
        float mins = 0;
        for (int b = 0; b < nb; b++) {
            long p = off + 144L * b;
            int xb = xo + 256 * b;
            float d = Dequantize.f16(w, p);
            float dmin = Dequantize.f16(w, p + 2);
            for (int j = 0; j < 4; j++) {
                FloatVector s1 = FloatVector.zero(FS);
                FloatVector s2 = FloatVector.zero(FS);
                for (int l = 0; l < 32; l += L) {
                    ByteVector q = load(w, p + 16 + 32 * j + l);
                    s1 = f(q.and((byte) 0x0F)).fma(x(x, xb + 64 * j + l), s1);
                    s2 = f(q.lanewise(VectorOperators.LSHR, 4)).fma(x(x, xb + 64 * j + 32 + l), s2);
                }
                Dequantize.scaleMinK4(w, p + 4, 2 * j, sm);
                acc = s1.fma(scale(d * sm[0]), acc);
                mins += dmin * sm[1] * xs[8 * b + 2 * j];
                Dequantize.scaleMinK4(w, p + 4, 2 * j + 1, sm);
                acc = s2.fma(scale(d * sm[0]), acc);
                mins += dmin * sm[1] * xs[8 * b + 2 * j + 1];
            }
        }
        return Lanes.sum(acc, lanes) - mins;
    }

    static float q5K(MemorySegment w, long off, int nb, float[] x, int xo, float[] xs, float[] lanes, int[] sm) {
        FloatVector acc = FloatVector.zero(FS);
        float mins = 0;
        for (int b = 0; b < nb; b++) {
            long p = off + 176L * b;
            int xb = xo + 256 * b;
            float d = Dequantize.f16(w, p);
            float dmin = Dequantize.f16(w, p + 2);
            for (int j = 0; j < 4; j++) {
                FloatVector s1 = FloatVector.zero(FS);
                FloatVector s2 = FloatVector.zero(FS);
                for (int l = 0; l < 32; l += L) {
                    ByteVector q = load(w, p + 48 + 32 * j + l);
                    ByteVector h = load(w, p + 16 + l);
                    ByteVector lo = q.and((byte) 0x0F).or(h.lanewise(VectorOperators.LSHR, 2 * j).and((byte) 1)
                            .lanewise(VectorOperators.LSHL, 4));
                    ByteVector hi = q.lanewise(VectorOperators.LSHR, 4).or(h.lanewise(VectorOperators.LSHR,
                            2 * j + 1).and((byte) 1).lanewise(VectorOperators.LSHL, 4));
                    s1 = f(lo).fma(x(x, xb + 64 * j + l), s1);
                    s2 = f(hi).fma(x(x, xb + 64 * j + 32 + l), s2);
                }
                Dequantize.scaleMinK4(w, p + 4, 2 * j, sm);
                acc = s1.fma(scale(d * sm[0]), acc);
                mins += dmin * sm[1] * xs[8 * b + 2 * j];
                Dequantize.scaleMinK4(w, p + 4, 2 * j + 1, sm);
                acc = s2.fma(scale(d * sm[0]), acc);
                mins += dmin * sm[1] * xs[8 * b + 2 * j + 1];
            }
        }
        return Lanes.sum(acc, lanes) - mins;
    }

    static float q6K(MemorySegment w, long off, int nb, float[] x, int xo, float[] lanes) {
        FloatVector acc = FloatVector.zero(FS);
        for (int b = 0; b < nb; b++) {
            long p = off + 210L * b;
            int xb = xo + 256 * b;
            float d = Dequantize.f16(w, p + 208);
            for (int n = 0; n < 2; n++) {
                long sc = p + 192 + 8L * n;
                for (int l = 0; l < 32; l += L) {
                    ByteVector a = load(w, p + 64L * n + l);
                    ByteVector c = load(w, p + 64L * n + 32 + l);
                    ByteVector h = load(w, p + 128 + 32L * n + l);
                    ByteVector q1 = a.and((byte) 0x0F).or(h.and((byte) 3).lanewise(VectorOperators.LSHL, 4));
                    ByteVector q2 = c.and((byte) 0x0F).or(h.lanewise(VectorOperators.LSHR, 2).and((byte) 3)
                            .lanewise(VectorOperators.LSHL, 4));
                    ByteVector q3 = a.lanewise(VectorOperators.LSHR, 4).or(h.lanewise(VectorOperators.LSHR, 4)
                            .and((byte) 3).lanewise(VectorOperators.LSHL, 4));
                    ByteVector q4 = c.lanewise(VectorOperators.LSHR, 4).or(h.lanewise(VectorOperators.LSHR, 6)
                            .lanewise(VectorOperators.LSHL, 4));
                    int is = l / 16;
                    int xl = xb + 128 * n + l;
                    acc = f(q1.sub((byte) 32)).mul(x(x, xl)).fma(scale(d * i8(w, sc + is)), acc);
                    acc = f(q2.sub((byte) 32)).mul(x(x, xl + 32)).fma(scale(d * i8(w, sc + is + 2)), acc);
                    acc = f(q3.sub((byte) 32)).mul(x(x, xl + 64)).fma(scale(d * i8(w, sc + is + 4)), acc);
                    acc = f(q4.sub((byte) 32)).mul(x(x, xl + 96)).fma(scale(d * i8(w, sc + is + 6)), acc);
                }
            }
        }
        return Lanes.sum(acc, lanes);
    }

    private static int i8(MemorySegment w, long p) {
        return w.get(java.lang.foreign.ValueLayout.JAVA_BYTE, p);
    }

    static float q3K(MemorySegment w, long off, int nb, float[] x, int xo, float[] lanes, int[] sc) {
        FloatVector acc = FloatVector.zero(FS);
        for (int b = 0; b < nb; b++) {
            long p = off + 110L * b;
            int xb = xo + 256 * b;
            float d = Dequantize.f16(w, p + 108);
            Dequantize.q3KScales(w, p + 96, sc);
            for (int n = 0; n < 2; n++) {
                for (int j = 0; j < 4; j++) {
                    for (int l = 0; l < 32; l += L) {
                        ByteVector q = load(w, p + 32 + 32L * n + l).lanewise(VectorOperators.LSHR, 2 * j)
                                .and((byte) 3);
                        ByteVector h = load(w, p + l).lanewise(VectorOperators.LSHR, 4 * n + j).and((byte) 1);
                        ByteVector v = q.add(h.lanewise(VectorOperators.LSHL, 2)).sub((byte) 4);
                        float dl = d * sc[8 * n + 2 * j + l / 16];
                        acc = f(v).mul(x(x, xb + 128 * n + 32 * j + l)).fma(scale(dl), acc);
                    }
                }
            }
        }
        return Lanes.sum(acc, lanes);
    }

    /** Q2_K; {@code xs} holds sums of x per 16 elements. */
    static float q2K(MemorySegment w, long off, int nb, float[] x, int xo, float[] xs, float[] lanes) {
        FloatVector acc = FloatVector.zero(FS);
        float mins = 0;
        for (int b = 0; b < nb; b++) {
            long p = off + 84L * b;
            int xb = xo + 256 * b;
            float d = Dequantize.f16(w, p + 80);
            float dmin = Dequantize.f16(w, p + 82);
            for (int n = 0; n < 2; n++) {
                for (int j = 0; j < 4; j++) {
                    for (int l = 0; l < 32; l += L) {
                        ByteVector q = load(w, p + 16 + 32L * n + l).lanewise(VectorOperators.LSHR, 2 * j)
                                .and((byte) 3);
                        int g = 8 * n + 2 * j + l / 16;
                        int sc = Dequantize.u8(w, p + g);
                        acc = f(q).mul(x(x, xb + 128 * n + 32 * j + l)).fma(scale(d * (sc & 0xF)), acc);
                        if (l % 16 == 0) {
                            mins += dmin * (sc >> 4) * xs[16 * b + g];
                        }
                    }
                }
            }
        }
        return Lanes.sum(acc, lanes) - mins;
    }
}
