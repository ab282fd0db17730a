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
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(LE);
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

    /** Q8_0: even and odd blocks go to two accumulators (one FMA chain per block would bound the loop). */
    static void q8_0(MemorySegment w, long rowBytes, int rowFrom, int rowTo, float[] y, int yo, int nb, float[] x,
                    int xo, float[] lanes) {
        for (int r = rowFrom; r < rowTo; r++) {
            long off = r * rowBytes;
            FloatVector acc0 = FloatVector.zero(FS);
            FloatVector acc1 = FloatVector.zero(FS);
            int b = 0;
            for (; b + 1 < nb; b += 2) {
                long p = off + 34L * b;
                int xb = xo + 32 * b;
                FloatVector s0 = ((FloatVector) ByteVector.fromMemorySegment(BS, w, p + 2, LE)
                        .convertShape(VectorOperators.B2F, FS, 0)).mul(FloatVector.fromArray(FS, x, xb));
                FloatVector s1 = ((FloatVector) ByteVector.fromMemorySegment(BS, w, p + 36, LE)
                        .convertShape(VectorOperators.B2F, FS, 0)).mul(FloatVector.fromArray(FS, x, xb + 32));
                for (int j = L; j < 32; j += L) {
                    s0 = ((FloatVector) ByteVector.fromMemorySegment(BS, w, p + 2 + j, LE)
                            .convertShape(VectorOperators.B2F, FS, 0)).fma(FloatVector.fromArray(FS, x, xb + j), s0);
                    s1 = ((FloatVector) ByteVector.fromMemorySegment(BS, w, p + 36 + j, LE)
                            .convertShape(VectorOperators.B2F, FS, 0))
                            .fma(FloatVector.fromArray(FS, x, xb + 32 + j), s1);
                }
                acc0 = s0.fma(FloatVector.broadcast(FS, Dequantize.f16(w, p)), acc0);
                acc1 = s1.fma(FloatVector.broadcast(FS, Dequantize.f16(w, p + 34)), acc1);
            }
            if (b < nb) {
                long p = off + 34L * b;
                int xb = xo + 32 * b;
                FloatVector s0 = FloatVector.zero(FS);
                for (int j = 0; j < 32; j += L) {
                    s0 = ((FloatVector) ByteVector.fromMemorySegment(BS, w, p + 2 + j, LE)
                            .convertShape(VectorOperators.B2F, FS, 0)).fma(FloatVector.fromArray(FS, x, xb + j), s0);
                }
                acc0 = s0.fma(FloatVector.broadcast(FS, Dequantize.f16(w, p)), acc0);
            }
            acc0.add(acc1).intoArray(lanes, 0); // Lanes.sum in place: not inlined, its argument is boxed
            float sum = 0f;
            for (int i = 0; i < L; i++) {
                sum += lanes[i];
            }
            y[yo + r] = sum;
        }
    }

    /** Q4_0: low and high nibbles (elements 0-15 and 16-31) in separate sums, even and odd blocks apart. */
    static void q4_0(MemorySegment w, long rowBytes, int rowFrom, int rowTo, float[] y, int yo, int nb, float[] x,
                    int xo, float[] lanes) {
        for (int r = rowFrom; r < rowTo; r++) {
            long off = r * rowBytes;
            FloatVector acc0 = FloatVector.zero(FS);
            FloatVector acc1 = FloatVector.zero(FS);
            int b = 0;
            for (; b + 1 < nb; b += 2) {
                long p = off + 18L * b;
                int xb = xo + 32 * b;
                FloatVector s0 = FloatVector.zero(FS);
                FloatVector s1 = FloatVector.zero(FS);
                FloatVector t0 = FloatVector.zero(FS);
                FloatVector t1 = FloatVector.zero(FS);
                for (int j = 0; j < 16; j += L) {
                    IntVector q = ((IntVector) ByteVector.fromMemorySegment(BS, w, p + 2 + j, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0));
                    IntVector u = ((IntVector) ByteVector.fromMemorySegment(BS, w, p + 20 + j, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0));
                    s0 = ((FloatVector) q.and(0x0F).sub(8).convert(VectorOperators.I2F, 0))
                            .fma(FloatVector.fromArray(FS, x, xb + j), s0);
                    t0 = ((FloatVector) q.lanewise(VectorOperators.LSHR, 4).sub(8)
                            .convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(FS, x, xb + 16 + j), t0);
                    s1 = ((FloatVector) u.and(0x0F).sub(8).convert(VectorOperators.I2F, 0))
                            .fma(FloatVector.fromArray(FS, x, xb + 32 + j), s1);
                    t1 = ((FloatVector) u.lanewise(VectorOperators.LSHR, 4).sub(8)
                            .convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(FS, x, xb + 48 + j), t1);
                }
                acc0 = s0.add(t0).fma(FloatVector.broadcast(FS, Dequantize.f16(w, p)), acc0);
                acc1 = s1.add(t1).fma(FloatVector.broadcast(FS, Dequantize.f16(w, p + 18)), acc1);
            }
            if (b < nb) {
                long p = off + 18L * b;
                int xb = xo + 32 * b;
                FloatVector s0 = FloatVector.zero(FS);
                FloatVector t0 = FloatVector.zero(FS);
                for (int j = 0; j < 16; j += L) {
                    IntVector q = ((IntVector) ByteVector.fromMemorySegment(BS, w, p + 2 + j, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0));
                    s0 = ((FloatVector) q.and(0x0F).sub(8).convert(VectorOperators.I2F, 0))
                            .fma(FloatVector.fromArray(FS, x, xb + j), s0);
                    t0 = ((FloatVector) q.lanewise(VectorOperators.LSHR, 4).sub(8)
                            .convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(FS, x, xb + 16 + j), t0);
                }
                acc0 = s0.add(t0).fma(FloatVector.broadcast(FS, Dequantize.f16(w, p)), acc0);
            }
            acc0.add(acc1).intoArray(lanes, 0); // Lanes.sum in place: not inlined, its argument is boxed
            float sum = 0f;
            for (int i = 0; i < L; i++) {
                sum += lanes[i];
            }
            y[yo + r] = sum;
        }
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
     * The K-quants decode each block's group scales into dsc (and add up the min terms) in the block loop itself,
     * so this scalar work overlaps the vector work of the block before (as a separate pass over the row it cost
     * as much as the dot: it was read a byte per segment access; now one long and one int, or one vector for
     * Q6_K's int8 scales); the inner loops run over the bytes of a group pair: each L
     * bytes are loaded and widened once and give the codes of every group stored in them (Q4_K/Q5_K: the low
     * and high nibbles of 32 bytes are groups 2j and 2j+1; Q6_K: 32 ql bytes and 32 qh bytes make four groups),
     * with constant shifts. Each group (or Q6_K quarter) has its own accumulator, so no single FMA chain bounds
     * the loop. No call that C2 might not inline happens while a vector is live (one would box the vectors:
     * 100-1000x slower). Codes are unpacked in int lanes (see ints()).
     */

    /** Q4_K: 8 groups of 32 nibbles; {@code xs} holds sums of x per 32 elements. */
    static void q4K(MemorySegment w, long rowBytes, int rowFrom, int rowTo, float[] y, int yo, int nb, float[] x,
                    int xo, float[] xs, float[] lanes, float[] dsc) {
        for (int r = rowFrom; r < rowTo; r++) {
            long off = r * rowBytes;
            float mins = 0;
            FloatVector acc0 = FloatVector.zero(FS);
            FloatVector acc1 = FloatVector.zero(FS);
            for (int b = 0; b < nb; b++) {
                long p = off + 144L * b;
                float d = Float.float16ToFloat(w.get(Dequantize.I16, p));
                float dmin = Float.float16ToFloat(w.get(Dequantize.I16, p + 2));
                long sa = w.get(I64, p + 4);
                int sc = w.get(Dequantize.I32, p + 12);
                for (int g = 0; g < 4; g++) {
                    int lo = (int) (sa >>> (8 * g)) & 0xFF;
                    int hi = (int) (sa >>> (8 * g + 32)) & 0xFF;
                    int cc = (sc >>> (8 * g)) & 0xFF;
                    dsc[g] = d * (lo & 63);
                    dsc[g + 4] = d * ((cc & 0xF) | ((lo >> 6) << 4));
                    mins += dmin * (hi & 63) * xs[8 * b + g];
                    mins += dmin * ((cc >> 4) | ((hi >> 6) << 4)) * xs[8 * b + g + 4];
                }
                long q = p + 16;
                int xb = xo + 256 * b;
                FloatVector s0 = FloatVector.zero(FS);
                FloatVector s1 = FloatVector.zero(FS);
                for (int l = 0; l < 32; l += L) {
                    IntVector v = ((IntVector) ByteVector.fromMemorySegment(BS, w, q + l, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0));
                    s0 = ((FloatVector) v.and(0x0F).convert(VectorOperators.I2F, 0))
                            .fma(FloatVector.fromArray(FS, x, xb + l), s0);
                    s1 = ((FloatVector) v.lanewise(VectorOperators.LSHR, 4)
                            .convert(VectorOperators.I2F, 0))
                            .fma(FloatVector.fromArray(FS, x, xb + 32 + l), s1);
                }
                acc0 = s0.fma(FloatVector.broadcast(FS, dsc[0]), acc0);
                acc1 = s1.fma(FloatVector.broadcast(FS, dsc[1]), acc1);
                s0 = FloatVector.zero(FS);
                s1 = FloatVector.zero(FS);
                for (int l = 0; l < 32; l += L) {
                    IntVector v = ((IntVector) ByteVector.fromMemorySegment(BS, w, q + 32 + l, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0));
                    s0 = ((FloatVector) v.and(0x0F).convert(VectorOperators.I2F, 0))
                            .fma(FloatVector.fromArray(FS, x, xb + 64 + l), s0);
                    s1 = ((FloatVector) v.lanewise(VectorOperators.LSHR, 4)
                            .convert(VectorOperators.I2F, 0))
                            .fma(FloatVector.fromArray(FS, x, xb + 96 + l), s1);
                }
                acc0 = s0.fma(FloatVector.broadcast(FS, dsc[2]), acc0);
                acc1 = s1.fma(FloatVector.broadcast(FS, dsc[3]), acc1);
                s0 = FloatVector.zero(FS);
                s1 = FloatVector.zero(FS);
                for (int l = 0; l < 32; l += L) {
                    IntVector v = ((IntVector) ByteVector.fromMemorySegment(BS, w, q + 64 + l, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0));
                    s0 = ((FloatVector) v.and(0x0F).convert(VectorOperators.I2F, 0))
                            .fma(FloatVector.fromArray(FS, x, xb + 128 + l), s0);
                    s1 = ((FloatVector) v.lanewise(VectorOperators.LSHR, 4)
                            .convert(VectorOperators.I2F, 0))
                            .fma(FloatVector.fromArray(FS, x, xb + 160 + l), s1);
                }
                acc0 = s0.fma(FloatVector.broadcast(FS, dsc[4]), acc0);
                acc1 = s1.fma(FloatVector.broadcast(FS, dsc[5]), acc1);
                s0 = FloatVector.zero(FS);
                s1 = FloatVector.zero(FS);
                for (int l = 0; l < 32; l += L) {
                    IntVector v = ((IntVector) ByteVector.fromMemorySegment(BS, w, q + 96 + l, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0));
                    s0 = ((FloatVector) v.and(0x0F).convert(VectorOperators.I2F, 0))
                            .fma(FloatVector.fromArray(FS, x, xb + 192 + l), s0);
                    s1 = ((FloatVector) v.lanewise(VectorOperators.LSHR, 4)
                            .convert(VectorOperators.I2F, 0))
                            .fma(FloatVector.fromArray(FS, x, xb + 224 + l), s1);
                }
                acc0 = s0.fma(FloatVector.broadcast(FS, dsc[6]), acc0);
                acc1 = s1.fma(FloatVector.broadcast(FS, dsc[7]), acc1);
            }
            acc0.add(acc1).intoArray(lanes, 0); // Lanes.sum in place: not inlined, its argument is boxed
            float sum = 0f;
            for (int i = 0; i < L; i++) {
                sum += lanes[i];
            }
            y[yo + r] = sum - mins;
        }
    }

    /** Q5_K: Q4_K's nibbles plus one high bit per code in 32 bytes (bit g of byte l for group g). */
    static void q5K(MemorySegment w, long rowBytes, int rowFrom, int rowTo, float[] y, int yo, int nb, float[] x,
                    int xo, float[] xs, float[] lanes, float[] dsc) {
        for (int r = rowFrom; r < rowTo; r++) {
            long off = r * rowBytes;
            float mins = 0;
            FloatVector acc0 = FloatVector.zero(FS);
            FloatVector acc1 = FloatVector.zero(FS);
            for (int b = 0; b < nb; b++) {
                long p = off + 176L * b;
                float d = Float.float16ToFloat(w.get(Dequantize.I16, p));
                float dmin = Float.float16ToFloat(w.get(Dequantize.I16, p + 2));
                long sa = w.get(I64, p + 4);
                int sc = w.get(Dequantize.I32, p + 12);
                for (int g = 0; g < 4; g++) {
                    int lo = (int) (sa >>> (8 * g)) & 0xFF;
                    int hi = (int) (sa >>> (8 * g + 32)) & 0xFF;
                    int cc = (sc >>> (8 * g)) & 0xFF;
                    dsc[g] = d * (lo & 63);
                    dsc[g + 4] = d * ((cc & 0xF) | ((lo >> 6) << 4));
                    mins += dmin * (hi & 63) * xs[8 * b + g];
                    mins += dmin * ((cc >> 4) | ((hi >> 6) << 4)) * xs[8 * b + g + 4];
                }
                int xb = xo + 256 * b;
                FloatVector s0 = FloatVector.zero(FS);
                FloatVector s1 = FloatVector.zero(FS);
                for (int l = 0; l < 32; l += L) {
                    IntVector v = ((IntVector) ByteVector.fromMemorySegment(BS, w, p + 48 + l, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0));
                    IntVector h = ((IntVector) ByteVector.fromMemorySegment(BS, w, p + 16 + l, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0)).lanewise(VectorOperators.LSHR, 0);
                    IntVector lo = v.and(0x0F).or(h.and(1).lanewise(VectorOperators.LSHL, 4));
                    IntVector hi = v.lanewise(VectorOperators.LSHR, 4)
                            .or(h.and(2).lanewise(VectorOperators.LSHL, 3));
                    s0 = ((FloatVector) lo.convert(VectorOperators.I2F, 0))
                            .fma(FloatVector.fromArray(FS, x, xb + l), s0);
                    s1 = ((FloatVector) hi.convert(VectorOperators.I2F, 0))
                            .fma(FloatVector.fromArray(FS, x, xb + 32 + l), s1);
                }
                acc0 = s0.fma(FloatVector.broadcast(FS, dsc[0]), acc0);
                acc1 = s1.fma(FloatVector.broadcast(FS, dsc[1]), acc1);
                s0 = FloatVector.zero(FS);
                s1 = FloatVector.zero(FS);
                for (int l = 0; l < 32; l += L) {
                    IntVector v = ((IntVector) ByteVector.fromMemorySegment(BS, w, p + 48 + 32 + l, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0));
                    IntVector h = ((IntVector) ByteVector.fromMemorySegment(BS, w, p + 16 + l, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0)).lanewise(VectorOperators.LSHR, 2);
                    IntVector lo = v.and(0x0F).or(h.and(1).lanewise(VectorOperators.LSHL, 4));
                    IntVector hi = v.lanewise(VectorOperators.LSHR, 4)
                            .or(h.and(2).lanewise(VectorOperators.LSHL, 3));
                    s0 = ((FloatVector) lo.convert(VectorOperators.I2F, 0))
                            .fma(FloatVector.fromArray(FS, x, xb + 64 + l), s0);
                    s1 = ((FloatVector) hi.convert(VectorOperators.I2F, 0))
                            .fma(FloatVector.fromArray(FS, x, xb + 96 + l), s1);
                }
                acc0 = s0.fma(FloatVector.broadcast(FS, dsc[2]), acc0);
                acc1 = s1.fma(FloatVector.broadcast(FS, dsc[3]), acc1);
                s0 = FloatVector.zero(FS);
                s1 = FloatVector.zero(FS);
                for (int l = 0; l < 32; l += L) {
                    IntVector v = ((IntVector) ByteVector.fromMemorySegment(BS, w, p + 48 + 64 + l, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0));
                    IntVector h = ((IntVector) ByteVector.fromMemorySegment(BS, w, p + 16 + l, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0)).lanewise(VectorOperators.LSHR, 4);
                    IntVector lo = v.and(0x0F).or(h.and(1).lanewise(VectorOperators.LSHL, 4));
                    IntVector hi = v.lanewise(VectorOperators.LSHR, 4)
                            .or(h.and(2).lanewise(VectorOperators.LSHL, 3));
                    s0 = ((FloatVector) lo.convert(VectorOperators.I2F, 0))
                            .fma(FloatVector.fromArray(FS, x, xb + 128 + l), s0);
                    s1 = ((FloatVector) hi.convert(VectorOperators.I2F, 0))
                            .fma(FloatVector.fromArray(FS, x, xb + 160 + l), s1);
                }
                acc0 = s0.fma(FloatVector.broadcast(FS, dsc[4]), acc0);
                acc1 = s1.fma(FloatVector.broadcast(FS, dsc[5]), acc1);
                s0 = FloatVector.zero(FS);
                s1 = FloatVector.zero(FS);
                for (int l = 0; l < 32; l += L) {
                    IntVector v = ((IntVector) ByteVector.fromMemorySegment(BS, w, p + 48 + 96 + l, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0));
                    IntVector h = ((IntVector) ByteVector.fromMemorySegment(BS, w, p + 16 + l, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0)).lanewise(VectorOperators.LSHR, 6);
                    IntVector lo = v.and(0x0F).or(h.and(1).lanewise(VectorOperators.LSHL, 4));
                    IntVector hi = v.lanewise(VectorOperators.LSHR, 4)
                            .or(h.and(2).lanewise(VectorOperators.LSHL, 3));
                    s0 = ((FloatVector) lo.convert(VectorOperators.I2F, 0))
                            .fma(FloatVector.fromArray(FS, x, xb + 192 + l), s0);
                    s1 = ((FloatVector) hi.convert(VectorOperators.I2F, 0))
                            .fma(FloatVector.fromArray(FS, x, xb + 224 + l), s1);
                }
                acc0 = s0.fma(FloatVector.broadcast(FS, dsc[6]), acc0);
                acc1 = s1.fma(FloatVector.broadcast(FS, dsc[7]), acc1);
            }
            acc0.add(acc1).intoArray(lanes, 0); // Lanes.sum in place: not inlined, its argument is boxed
            float sum = 0f;
            for (int i = 0; i < L; i++) {
                sum += lanes[i];
            }
            y[yo + r] = sum - mins;
        }
    }

    /**
     * Q6_K: element e of a block sits in half h = e/128, quarter k = (e/32)%4, lane l = e%32: low 4 bits in
     * ql[64h + 32(k%2) + l] (high nibble for k >= 2), high 2 bits at shift 2k of qh[32h + l], scale sc[e/16].
     * One pass over (h, l) reads ql and qh once for all four quarters.
     */
    static void q6K(MemorySegment w, long rowBytes, int rowFrom, int rowTo, float[] y, int yo, int nb, float[] x,
                    int xo, float[] lanes, float[] dsc) {
        for (int r = rowFrom; r < rowTo; r++) {
            long off = r * rowBytes;
            FloatVector acc0 = FloatVector.zero(FS);
            FloatVector acc1 = FloatVector.zero(FS);
            FloatVector acc2 = FloatVector.zero(FS);
            FloatVector acc3 = FloatVector.zero(FS);
            for (int b = 0; b < nb; b++) {
                long p = off + 210L * b;
                int xb = xo + 256 * b;
                FloatVector d = FloatVector.broadcast(FS, Float.float16ToFloat(w.get(Dequantize.I16, p + 208)));
                for (int g = 0; g < 16; g += L) {
                    ((FloatVector) ByteVector.fromMemorySegment(BS, w, p + 192 + g, LE)
                            .convertShape(VectorOperators.B2F, FS, 0)).mul(d).intoArray(dsc, g);
                }
                for (int l = 0; l < 32; l += L) {
                    IntVector ql0 = ((IntVector) ByteVector.fromMemorySegment(BS, w, p + l, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0));
                    IntVector ql1 = ((IntVector) ByteVector.fromMemorySegment(BS, w, p + 32 + l, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0));
                    IntVector qh = ((IntVector) ByteVector.fromMemorySegment(BS, w, p + 128 + l, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0));
                    IntVector q0 = ql0.and(0x0F).or(qh.and(3).lanewise(VectorOperators.LSHL, 4)).sub(32);
                    IntVector q1 = ql1.and(0x0F).or(qh.and(0x0C).lanewise(VectorOperators.LSHL, 2)).sub(32);
                    IntVector q2 = ql0.lanewise(VectorOperators.LSHR, 4).or(qh.and(0x30)).sub(32);
                    IntVector q3 = ql1.lanewise(VectorOperators.LSHR, 4)
                            .or(qh.lanewise(VectorOperators.LSHR, 2).and(0x30)).sub(32);
                    int e = l;
                    int g = e >> 4;
                    acc0 = ((FloatVector) q0.convert(VectorOperators.I2F, 0))
                            .mul(FloatVector.fromArray(FS, x, xb + e)).fma(FloatVector.broadcast(FS, dsc[g]), acc0);
                    acc1 = ((FloatVector) q1.convert(VectorOperators.I2F, 0))
                            .mul(FloatVector.fromArray(FS, x, xb + e + 32))
                            .fma(FloatVector.broadcast(FS, dsc[g + 2]), acc1);
                    acc2 = ((FloatVector) q2.convert(VectorOperators.I2F, 0))
                            .mul(FloatVector.fromArray(FS, x, xb + e + 64))
                            .fma(FloatVector.broadcast(FS, dsc[g + 4]), acc2);
                    acc3 = ((FloatVector) q3.convert(VectorOperators.I2F, 0))
                            .mul(FloatVector.fromArray(FS, x, xb + e + 96))
                            .fma(FloatVector.broadcast(FS, dsc[g + 6]), acc3);
                }
                for (int l = 0; l < 32; l += L) {
                    IntVector ql0 = ((IntVector) ByteVector.fromMemorySegment(BS, w, p + 64 + l, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0));
                    IntVector ql1 = ((IntVector) ByteVector.fromMemorySegment(BS, w, p + 96 + l, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0));
                    IntVector qh = ((IntVector) ByteVector.fromMemorySegment(BS, w, p + 160 + l, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0));
                    IntVector q0 = ql0.and(0x0F).or(qh.and(3).lanewise(VectorOperators.LSHL, 4)).sub(32);
                    IntVector q1 = ql1.and(0x0F).or(qh.and(0x0C).lanewise(VectorOperators.LSHL, 2)).sub(32);
                    IntVector q2 = ql0.lanewise(VectorOperators.LSHR, 4).or(qh.and(0x30)).sub(32);
                    IntVector q3 = ql1.lanewise(VectorOperators.LSHR, 4)
                            .or(qh.lanewise(VectorOperators.LSHR, 2).and(0x30)).sub(32);
                    int e = 128 + l;
                    int g = e >> 4;
                    acc0 = ((FloatVector) q0.convert(VectorOperators.I2F, 0))
                            .mul(FloatVector.fromArray(FS, x, xb + e)).fma(FloatVector.broadcast(FS, dsc[g]), acc0);
                    acc1 = ((FloatVector) q1.convert(VectorOperators.I2F, 0))
                            .mul(FloatVector.fromArray(FS, x, xb + e + 32))
                            .fma(FloatVector.broadcast(FS, dsc[g + 2]), acc1);
                    acc2 = ((FloatVector) q2.convert(VectorOperators.I2F, 0))
                            .mul(FloatVector.fromArray(FS, x, xb + e + 64))
                            .fma(FloatVector.broadcast(FS, dsc[g + 4]), acc2);
                    acc3 = ((FloatVector) q3.convert(VectorOperators.I2F, 0))
                            .mul(FloatVector.fromArray(FS, x, xb + e + 96))
                            .fma(FloatVector.broadcast(FS, dsc[g + 6]), acc3);
                }
            }
            // Lanes.sum written out: a call here is not always inlined, and then boxes its argument
            acc0.add(acc1).add(acc2.add(acc3)).intoArray(lanes, 0);
            float sum = 0f;
            for (int i = 0; i < L; i++) {
                sum += lanes[i];
            }
            y[yo + r] = sum;
        }
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
