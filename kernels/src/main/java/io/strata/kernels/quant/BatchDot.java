package io.strata.kernels.quant;

import io.strata.core.model.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * One quantised weight applied to a batch of inputs (a prompt's positions). {@link BlockDot} unpacks every block
 * for every input, so a batch of n cost n matvecs; here a few rows at a time (64 KiB of floats, kept in L2) are
 * unpacked once into a per-thread scratch, as float codes (the small integers BlockDot widens in registers,
 * converted exactly) plus each group's float scale and min product, and every input then runs over the unpacked
 * rows: four inputs per pass share each code load, and for Q8_0, Q4_K and Q5_K two rows per pass share each x
 * load. Per input the float operations are exactly BlockDot's, in its order: the same code x x products and FMA
 * chains into the same accumulators, the same scale FMAs, the same index-order lane sum and the same min chain
 * (its products dmin * m formed, as there, before multiplying by the input's group sum; the chains of all inputs
 * run side by side, one input per lane, each lane doing the scalar operations), so a batched row has the bits
 * of a single-vector row. One unpack method and one dot method per block layout, each a single loop nest over
 * primitive arrays: no lambdas or interfaces near the vectors (C2 boxes them otherwise).
 */
final class BatchDot {
    private static final VectorSpecies<Float> FS = BlockDot.FS;
    private static final int L = BlockDot.L;
    private static final VectorSpecies<Byte> BS = VectorSpecies.of(byte.class,
            jdk.incubator.vector.VectorShape.forBitSize(L * 8));
    private static final VectorSpecies<Integer> IS = VectorSpecies.of(int.class, FS.vectorShape());
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(LE);
    /** Unpacked codes (floats) a row block may take, 64 KiB: it stays in L2 while every input passes over it. */
    private static final int BLOCK_FLOATS = 16 << 10;
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private BatchDot() {
    }

    /** Per-thread buffers, grown to the largest call and reused. */
    private static final class Scratch {
        float[] x = new float[0];
        /** Group sums of x, group-major: the sum of group j of input i at [j * lanesOf(count) + i]. */
        float[] xs = new float[0];
        float[] codes = new float[0];
        float[] scales = new float[0];
        float[] mins = new float[0];
        /** Per unpacked row, every input's min chain: row r's for input i at [r * lanesOf(count) + i]. */
        float[] rowMins = new float[0];
        final float[] lanes = new float[8 * L];

        void ensure(int inputs, int cols, int rows) {
            int cp = lanesOf(inputs);
            if (x.length < inputs * cols || xs.length < cp * (cols / 16)) {
                x = new float[inputs * cols];
                xs = new float[cp * (cols / 16)];
            }
            if (codes.length < rows * cols || rowMins.length < rows * cp) {
                codes = new float[rows * cols];
                scales = new float[rows * (cols / 16)];
                mins = new float[rows * (cols / 16)];
                rowMins = new float[rows * cp];
            }
        }
    }

    /** {@code count} rounded up to whole vectors (the group sums of all inputs are read a vector at a time). */
    private static int lanesOf(int count) {
        return (count + L - 1) / L * L;
    }

    /** Group size of the min terms (sums of x per group) of a type, 0 when it has none. */
    private static int minGroup(DType t) {
        return switch (t) {
            case Q4_1, Q5_1, Q4_K, Q5_K -> 32;
            case Q2_K -> 16;
            default -> 0;
        };
    }

    /**
     * For inputs t in [0, count): y[yOff + t * yStride + r] = row r of the {@code cols}-wide weight w (rowBytes
     * per row, cols a whole number of blocks) times x[xOff + t * xStride ..], the first {@code xCols} elements
     * read (the rest zero: rows padded to whole blocks), for r in [rowFrom, rowTo). Bounds are checked by the
     * caller.
     */
    static void apply(DType t, MemorySegment w, long rowBytes, int cols, float[] x, int xOff, int xStride,
                      int xCols, int count, float[] y, int yOff, int yStride, int rowFrom, int rowTo) {
        int block = Math.clamp(BLOCK_FLOATS / cols, 1, Math.max(1, rowTo - rowFrom));
        Scratch s = SCRATCH.get();
        s.ensure(count, cols, block);
        float[] xb = s.x;
        for (int i = 0; i < count; i++) {
            System.arraycopy(x, xOff + i * xStride, xb, i * cols, xCols);
            java.util.Arrays.fill(xb, i * cols + xCols, (i + 1) * cols, 0f);
        }
        int g = minGroup(t);
        int cp = lanesOf(count);
        if (g > 0) {
            java.util.Arrays.fill(s.xs, 0, cp * (cols / g), 0f);
            for (int i = 0; i < count; i++) {
                groupSums(xb, i * cols, cols, g, t == DType.Q4_K || t == DType.Q5_K, s.xs, i, cp);
            }
        }
        int nb = cols / t.blockSize();
        for (int r0 = rowFrom; r0 < rowTo; r0 += block) {
            int r1 = Math.min(rowTo, r0 + block);
            unpack(t, w, rowBytes, r0, r1, nb, cols, s);
            dots(t, s, r0, r1, nb, cols, count, y, yOff, yStride);
        }
    }

    /**
     * Sums of x over consecutive groups of {@code g} elements, each added in index order (as QuantMatVec's);
     * with {@code kOrder} stored in the order Q4_K/Q5_K add their min terms: per super-block groups 0, 4, 1,
     * 5, 2, 6, 3, 7.
     */
    private static void groupSums(float[] x, int xo, int cols, int g, boolean kOrder, float[] out, int input,
                                  int stride) {
        int n = cols / g;
        for (int i = 0; i < n; i++) {
            float a = 0;
            for (int j = 0; j < g; j++) {
                a += x[xo + i * g + j];
            }
            out[(kOrder ? kSlot(i) : i) * stride + input] = a;
        }
    }

    /** Terms of a row's min chain (one per group with a min), 0 for types without. */
    private static int minTerms(DType t, int nb) {
        return switch (t) {
            case Q4_K, Q5_K -> 8 * nb;
            case Q4_1, Q5_1 -> nb;
            case Q2_K -> 16 * nb;
            default -> 0;
        };
    }

    /**
     * The min chains of rows [0, rows) of the block for every input at once, inputs in lanes: per lane the
     * scalar chain {@code m += mp[j] * xs[j]} of BlockDot, j in order from m = 0 (a product, then a sum: the
     * same two roundings).
     */
    private static void minChains(Scratch s, int rows, int groups, int terms, int cp) {
        for (int r = 0; r < rows; r++) {
            int mo = r * groups;
            for (int i = 0; i < cp; i += L) {
                FloatVector m = FloatVector.zero(FS);
                for (int j = 0; j < terms; j++) {
                    m = m.add(FloatVector.fromArray(FS, s.xs, j * cp + i).mul(s.mins[mo + j]));
                }
                m.intoArray(s.rowMins, r * cp + i);
            }
        }
    }

    /** Where group i's min term comes in Q4_K/Q5_K's chain: group g (< 4) of a block at 2g, group g + 4 at 2g + 1. */
    private static int kSlot(int i) {
        int b = i >> 3;
        int g = i & 7;
        return 8 * b + (g < 4 ? 2 * g : 2 * (g - 4) + 1);
    }

    private static void unpack(DType t, MemorySegment w, long rowBytes, int r0, int r1, int nb, int cols,
                               Scratch s) {
        int groups = cols / 16;
        for (int r = r0; r < r1; r++) {
            long off = r * rowBytes;
            int co = (r - r0) * cols;
            int so = (r - r0) * groups;
            switch (t) {
                case Q8_0 -> unpackQ8_0(w, off, nb, s.codes, co, s.scales, so);
                case Q4_0 -> unpackQ4_0(w, off, nb, s.codes, co, s.scales, so);
                case Q4_K -> unpackQ4K(w, off, nb, s.codes, co, s.scales, s.mins, so);
                case Q5_K -> unpackQ5K(w, off, nb, s.codes, co, s.scales, s.mins, so);
                case Q6_K -> unpackQ6K(w, off, nb, s.codes, co, s.scales, so);
                default -> unpackScalar(t, w, off, nb, s.codes, co, s.scales, s.mins, so);
            }
        }
    }

    private static void dots(DType t, Scratch s, int r0, int r1, int nb, int cols, int count, float[] y, int yOff,
                             int yStride) {
        int groups = cols / 16;
        int cp = lanesOf(count);
        int terms = minTerms(t, nb);
        if (terms > 0) {
            minChains(s, r1 - r0, groups, terms, cp);
        }
        if (t == DType.Q4_K || t == DType.Q5_K || t == DType.Q8_0) {
            pairs(t, s, r0, r1, nb, cols, count, cp, y, yOff, yStride);
            return;
        }
        for (int i = 0; i < count; i += 4) {
            // a tail of fewer than four inputs repeats the last one: the same value is written twice
            int i1 = Math.min(i + 1, count - 1);
            int i2 = Math.min(i + 2, count - 1);
            int i3 = Math.min(i + 3, count - 1);
            int x0 = i * cols;
            int x1 = i1 * cols;
            int x2 = i2 * cols;
            int x3 = i3 * cols;
            int y0 = yOff + i * yStride;
            int y1 = yOff + i1 * yStride;
            int y2 = yOff + i2 * yStride;
            int y3 = yOff + i3 * yStride;
            for (int r = r0; r < r1; r++) {
                int co = (r - r0) * cols;
                int so = (r - r0) * groups;
                int mo = (r - r0) * cp;
                float[] rm = s.rowMins;
                switch (t) {
                    case Q4_0 -> dotQ4_0(s.codes, co, s.scales, so, nb, s.x, x0, x1, x2, x3, s.lanes, y, y0 + r,
                            y1 + r, y2 + r, y3 + r);
                    case Q6_K -> dotQ6K(s.codes, co, s.scales, so, nb, s.x, x0, x1, x2, x3, s.lanes, y, y0 + r,
                            y1 + r, y2 + r, y3 + r);
                    case Q4_1, Q5_1 -> dotHalves(s.codes, co, s.scales, so, nb, s.x, x0, x1, x2, x3, s.lanes, y,
                            y0 + r, y1 + r, y2 + r, y3 + r, rm[mo + i], rm[mo + i1], rm[mo + i2], rm[mo + i3], 1);
                    case Q5_0, MXFP4 -> dotHalves(s.codes, co, s.scales, so, nb, s.x, x0, x1, x2, x3, s.lanes, y,
                            y0 + r, y1 + r, y2 + r, y3 + r, 0f, 0f, 0f, 0f, 0);
                    case Q2_K -> dotSixteens(s.codes, co, s.scales, so, nb, s.x, x0, x1, x2, x3, s.lanes, y,
                            y0 + r, y1 + r, y2 + r, y3 + r, rm[mo + i], rm[mo + i1], rm[mo + i2], rm[mo + i3], -1);
                    case Q3_K -> dotSixteens(s.codes, co, s.scales, so, nb, s.x, x0, x1, x2, x3, s.lanes, y,
                            y0 + r, y1 + r, y2 + r, y3 + r, 0f, 0f, 0f, 0f, 0);
                    default -> throw new IllegalArgumentException("no batched matvec for " + t);
                }
            }
        }
    }

    // ---- unpacking: codes exactly as BlockDot forms them, as floats in element order; scales as it computes them

    private static void unpackQ8_0(MemorySegment w, long off, int nb, float[] c, int co, float[] sc, int so) {
        for (int b = 0; b < nb; b++) {
            long p = off + 34L * b;
            sc[so + b] = Dequantize.f16(w, p);
            for (int j = 0; j < 32; j += L) {
                ((FloatVector) ByteVector.fromMemorySegment(BS, w, p + 2 + j, LE)
                        .convertShape(VectorOperators.B2F, FS, 0)).intoArray(c, co + 32 * b + j);
            }
        }
    }

    private static void unpackQ4_0(MemorySegment w, long off, int nb, float[] c, int co, float[] sc, int so) {
        for (int b = 0; b < nb; b++) {
            long p = off + 18L * b;
            sc[so + b] = Dequantize.f16(w, p);
            for (int j = 0; j < 16; j += L) {
                IntVector q = (IntVector) ByteVector.fromMemorySegment(BS, w, p + 2 + j, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0);
                ((FloatVector) q.and(0x0F).sub(8).convert(VectorOperators.I2F, 0)).intoArray(c, co + 32 * b + j);
                ((FloatVector) q.lanewise(VectorOperators.LSHR, 4).sub(8).convert(VectorOperators.I2F, 0))
                        .intoArray(c, co + 32 * b + 16 + j);
            }
        }
    }

    /** Q4_K/Q5_K scales and min products of super-block b (mins in the order of {@link #kSlot}). */
    private static void scalesK(MemorySegment w, long p, int b, float[] sc, float[] mn, int so) {
        float d = Float.float16ToFloat(w.get(Dequantize.I16, p));
        float dmin = Float.float16ToFloat(w.get(Dequantize.I16, p + 2));
        long sa = w.get(I64, p + 4);
        int cs = w.get(Dequantize.I32, p + 12);
        for (int g = 0; g < 4; g++) {
            int lo = (int) (sa >>> (8 * g)) & 0xFF;
            int hi = (int) (sa >>> (8 * g + 32)) & 0xFF;
            int cc = (cs >>> (8 * g)) & 0xFF;
            sc[so + 8 * b + g] = d * (lo & 63);
            sc[so + 8 * b + g + 4] = d * ((cc & 0xF) | ((lo >> 6) << 4));
            mn[so + 8 * b + 2 * g] = dmin * (hi & 63);
            mn[so + 8 * b + 2 * g + 1] = dmin * ((cc >> 4) | ((hi >> 6) << 4));
        }
    }

    private static void unpackQ4K(MemorySegment w, long off, int nb, float[] c, int co, float[] sc, float[] mn,
                                  int so) {
        for (int b = 0; b < nb; b++) {
            long p = off + 144L * b;
            scalesK(w, p, b, sc, mn, so);
            int e = co + 256 * b;
            for (int k = 0; k < 4; k++) {
                for (int l = 0; l < 32; l += L) {
                    IntVector v = (IntVector) ByteVector.fromMemorySegment(BS, w, p + 16 + 32 * k + l, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0);
                    ((FloatVector) v.and(0x0F).convert(VectorOperators.I2F, 0)).intoArray(c, e + 64 * k + l);
                    ((FloatVector) v.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0))
                            .intoArray(c, e + 64 * k + 32 + l);
                }
            }
        }
    }

    private static void unpackQ5K(MemorySegment w, long off, int nb, float[] c, int co, float[] sc, float[] mn,
                                  int so) {
        for (int b = 0; b < nb; b++) {
            long p = off + 176L * b;
            scalesK(w, p, b, sc, mn, so);
            int e = co + 256 * b;
            for (int k = 0; k < 4; k++) {
                for (int l = 0; l < 32; l += L) {
                    IntVector v = (IntVector) ByteVector.fromMemorySegment(BS, w, p + 48 + 32 * k + l, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0);
                    IntVector h = ((IntVector) ByteVector.fromMemorySegment(BS, w, p + 16 + l, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0))
                            .lanewise(VectorOperators.LSHR, 2 * k);
                    IntVector lo = v.and(0x0F).or(h.and(1).lanewise(VectorOperators.LSHL, 4));
                    IntVector hi = v.lanewise(VectorOperators.LSHR, 4).or(h.and(2).lanewise(VectorOperators.LSHL, 3));
                    ((FloatVector) lo.convert(VectorOperators.I2F, 0)).intoArray(c, e + 64 * k + l);
                    ((FloatVector) hi.convert(VectorOperators.I2F, 0)).intoArray(c, e + 64 * k + 32 + l);
                }
            }
        }
    }

    private static void unpackQ6K(MemorySegment w, long off, int nb, float[] c, int co, float[] sc, int so) {
        for (int b = 0; b < nb; b++) {
            long p = off + 210L * b;
            float d = Float.float16ToFloat(w.get(Dequantize.I16, p + 208));
            for (int g = 0; g < 16; g++) {
                sc[so + 16 * b + g] = (float) w.get(ValueLayout.JAVA_BYTE, p + 192 + g) * d;
            }
            for (int h = 0; h < 2; h++) {
                int e = co + 256 * b + 128 * h;
                for (int l = 0; l < 32; l += L) {
                    IntVector ql0 = (IntVector) ByteVector.fromMemorySegment(BS, w, p + 64 * h + l, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0);
                    IntVector ql1 = (IntVector) ByteVector.fromMemorySegment(BS, w, p + 64 * h + 32 + l, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0);
                    IntVector qh = (IntVector) ByteVector.fromMemorySegment(BS, w, p + 128 + 32 * h + l, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0);
                    IntVector q0 = ql0.and(0x0F).or(qh.and(3).lanewise(VectorOperators.LSHL, 4)).sub(32);
                    IntVector q1 = ql1.and(0x0F).or(qh.and(0x0C).lanewise(VectorOperators.LSHL, 2)).sub(32);
                    IntVector q2 = ql0.lanewise(VectorOperators.LSHR, 4).or(qh.and(0x30)).sub(32);
                    IntVector q3 = ql1.lanewise(VectorOperators.LSHR, 4)
                            .or(qh.lanewise(VectorOperators.LSHR, 2).and(0x30)).sub(32);
                    ((FloatVector) q0.convert(VectorOperators.I2F, 0)).intoArray(c, e + l);
                    ((FloatVector) q1.convert(VectorOperators.I2F, 0)).intoArray(c, e + 32 + l);
                    ((FloatVector) q2.convert(VectorOperators.I2F, 0)).intoArray(c, e + 64 + l);
                    ((FloatVector) q3.convert(VectorOperators.I2F, 0)).intoArray(c, e + 96 + l);
                }
            }
        }
    }

    /** The rarer types, unpacked a code at a time (the same small integers BlockDot widens). */
    private static void unpackScalar(DType t, MemorySegment w, long off, int nb, float[] c, int co, float[] sc,
                                     float[] mn, int so) {
        for (int b = 0; b < nb; b++) {
            switch (t) {
                case Q4_1 -> {
                    long p = off + 20L * b;
                    sc[so + b] = Dequantize.f16(w, p);
                    mn[so + b] = Dequantize.f16(w, p + 2);
                    for (int j = 0; j < 16; j++) {
                        int q = Dequantize.u8(w, p + 4 + j);
                        c[co + 32 * b + j] = q & 0x0F;
                        c[co + 32 * b + 16 + j] = q >> 4;
                    }
                }
                case Q5_0, Q5_1 -> {
                    boolean one = t == DType.Q5_1;
                    long p = off + (one ? 24L : 22L) * b;
                    sc[so + b] = Dequantize.f16(w, p);
                    if (one) {
                        mn[so + b] = Dequantize.f16(w, p + 2);
                    }
                    int qh = w.get(Dequantize.I32, p + (one ? 4 : 2));
                    int bias = one ? 0 : 16;
                    for (int j = 0; j < 16; j++) {
                        int q = Dequantize.u8(w, p + (one ? 8 : 6) + j);
                        c[co + 32 * b + j] = ((q & 0x0F) | (((qh >>> j) & 1) << 4)) - bias;
                        c[co + 32 * b + 16 + j] = ((q >> 4) | (((qh >>> (16 + j)) & 1) << 4)) - bias;
                    }
                }
                case MXFP4 -> {
                    long p = off + 17L * b;
                    sc[so + b] = Dequantize.e8m0Half(Dequantize.u8(w, p));
                    for (int j = 0; j < 16; j++) {
                        int q = Dequantize.u8(w, p + 1 + j);
                        c[co + 32 * b + j] = Dequantize.KVALUES_MXFP4[q & 0x0F];
                        c[co + 32 * b + 16 + j] = Dequantize.KVALUES_MXFP4[q >> 4];
                    }
                }
                case Q2_K -> {
                    long p = off + 84L * b;
                    float d = Dequantize.f16(w, p + 80);
                    float dmin = Dequantize.f16(w, p + 82);
                    for (int g = 0; g < 16; g++) {
                        int s = Dequantize.u8(w, p + g);
                        sc[so + 16 * b + g] = d * (s & 0xF);
                        mn[so + 16 * b + g] = dmin * (s >> 4);
                    }
                    for (int e = 0; e < 256; e++) {
                        int q = Dequantize.u8(w, p + 16 + 32 * (e >> 7) + (e & 31));
                        c[co + 256 * b + e] = (q >> (2 * ((e >> 5) & 3))) & 3;
                    }
                }
                case Q3_K -> {
                    long p = off + 110L * b;
                    float d = Dequantize.f16(w, p + 108);
                    for (int g = 0; g < 16; g++) {
                        sc[so + 16 * b + g] = d * Dequantize.q3KScale(w, p + 96, g);
                    }
                    for (int e = 0; e < 256; e++) {
                        int h = e >> 7;
                        int j = (e >> 5) & 3;
                        int l = e & 31;
                        int q = (Dequantize.u8(w, p + 32 + 32 * h + l) >> (2 * j)) & 3;
                        int hb = (Dequantize.u8(w, p + l) >> (4 * h + j)) & 1;
                        c[co + 256 * b + e] = q + (hb << 2) - 4;
                    }
                }
                default -> throw new IllegalArgumentException("no batched matvec for " + t);
            }
        }
    }

    // ---- dots of one unpacked row with four inputs (x0..x3 into s.x), results to y[i0..i3]

    /** Index-order lane sums of four accumulators stored at lanes[0], [L], [2L], [3L]. */
    private static void store(float[] lanes, float[] y, int i0, int i1, int i2, int i3, float m0, float m1,
                              float m2, float m3, int minSign) {
        float s0 = 0f;
        float s1 = 0f;
        float s2 = 0f;
        float s3 = 0f;
        for (int i = 0; i < L; i++) {
            s0 += lanes[i];
            s1 += lanes[L + i];
            s2 += lanes[2 * L + i];
            s3 += lanes[3 * L + i];
        }
        if (minSign > 0) {
            s0 += m0;
            s1 += m1;
            s2 += m2;
            s3 += m3;
        } else if (minSign < 0) {
            s0 -= m0;
            s1 -= m1;
            s2 -= m2;
            s3 -= m3;
        }
        y[i0] = s0;
        y[i1] = s1;
        y[i2] = s2;
        y[i3] = s3;
    }

    /**
     * Q8_0, Q4_K, Q5_K: two rows by four inputs per pass (each code load serves four inputs, each x load two
     * rows); a lone last row of a block is paired with itself.
     */
    private static void pairs(DType t, Scratch s, int r0, int r1, int nb, int cols, int count, int cp, float[] y,
                              int yOff, int yStride) {
        int groups = cols / 16;
        boolean q8 = t == DType.Q8_0;
        float[] lanes = s.lanes;
        for (int i = 0; i < count; i += 4) {
            int n1 = Math.min(i + 1, count - 1);
            int n2 = Math.min(i + 2, count - 1);
            int n3 = Math.min(i + 3, count - 1);
            for (int r = r0; r < r1; r += 2) {
                int q = Math.min(r + 1, r1 - 1);
                int ca = (r - r0) * cols;
                int cb = (q - r0) * cols;
                if (q8) {
                    dot2Q8_0(s.codes, ca, cb, s.scales, (r - r0) * groups, (q - r0) * groups, nb, s.x,
                            i * cols, n1 * cols, n2 * cols, n3 * cols, lanes);
                } else {
                    dot2K32(s.codes, ca, cb, s.scales, (r - r0) * groups, (q - r0) * groups, nb, s.x,
                            i * cols, n1 * cols, n2 * cols, n3 * cols, lanes);
                }
                // eight index-order lane sums side by side (one after another they were a latency chain)
                float s0 = 0f;
                float s1 = 0f;
                float s2 = 0f;
                float s3 = 0f;
                float s4 = 0f;
                float s5 = 0f;
                float s6 = 0f;
                float s7 = 0f;
                for (int j = 0; j < L; j++) {
                    s0 += lanes[j];
                    s1 += lanes[L + j];
                    s2 += lanes[2 * L + j];
                    s3 += lanes[3 * L + j];
                    s4 += lanes[4 * L + j];
                    s5 += lanes[5 * L + j];
                    s6 += lanes[6 * L + j];
                    s7 += lanes[7 * L + j];
                }
                if (!q8) {
                    float[] rm = s.rowMins;
                    int ma = (r - r0) * cp;
                    int mb = (q - r0) * cp;
                    s0 -= rm[ma + i];
                    s1 -= rm[ma + n1];
                    s2 -= rm[ma + n2];
                    s3 -= rm[ma + n3];
                    s4 -= rm[mb + i];
                    s5 -= rm[mb + n1];
                    s6 -= rm[mb + n2];
                    s7 -= rm[mb + n3];
                }
                // n1..n3 may repeat i (a short tail): later writes of one slot carry the same bits
                y[yOff + i * yStride + r] = s0;
                y[yOff + n1 * yStride + r] = s1;
                y[yOff + n2 * yStride + r] = s2;
                y[yOff + n3 * yStride + r] = s3;
                y[yOff + i * yStride + q] = s4;
                y[yOff + n1 * yStride + q] = s5;
                y[yOff + n2 * yStride + q] = s6;
                y[yOff + n3 * yStride + q] = s7;
            }
        }
    }

    /**
     * Q4_K/Q5_K (BlockDot.q4K/q5K) of rows a and b with four inputs: each group of 32 summed from zero, then
     * scaled into the row's even- or odd-group accumulator; the two added, into lanes[k L] (row a, input k)
     * and lanes[(4 + k) L] (row b).
     */
    private static void dot2K32(float[] c, int ca, int cb, float[] sc, int sa, int sb, int nb, float[] x, int x0,
                                int x1, int x2, int x3, float[] lanes) {
        FloatVector a0 = FloatVector.zero(FS);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        FloatVector b0 = a0;
        FloatVector b1 = a0;
        FloatVector b2 = a0;
        FloatVector b3 = a0;
        FloatVector c0 = a0;
        FloatVector c1 = a0;
        FloatVector c2 = a0;
        FloatVector c3 = a0;
        FloatVector d0 = a0;
        FloatVector d1 = a0;
        FloatVector d2 = a0;
        FloatVector d3 = a0;
        for (int g = 0, n = 8 * nb; g < n; g += 2) {
            int e = 32 * g;
            FloatVector p0 = FloatVector.zero(FS);
            FloatVector p1 = p0;
            FloatVector p2 = p0;
            FloatVector p3 = p0;
            FloatVector q0 = p0;
            FloatVector q1 = p0;
            FloatVector q2 = p0;
            FloatVector q3 = p0;
            for (int l = 0; l < 32; l += L) {
                FloatVector va = FloatVector.fromArray(FS, c, ca + e + l);
                FloatVector vb = FloatVector.fromArray(FS, c, cb + e + l);
                FloatVector xv = FloatVector.fromArray(FS, x, x0 + e + l);
                p0 = va.fma(xv, p0);
                q0 = vb.fma(xv, q0);
                xv = FloatVector.fromArray(FS, x, x1 + e + l);
                p1 = va.fma(xv, p1);
                q1 = vb.fma(xv, q1);
                xv = FloatVector.fromArray(FS, x, x2 + e + l);
                p2 = va.fma(xv, p2);
                q2 = vb.fma(xv, q2);
                xv = FloatVector.fromArray(FS, x, x3 + e + l);
                p3 = va.fma(xv, p3);
                q3 = vb.fma(xv, q3);
            }
            FloatVector da = FloatVector.broadcast(FS, sc[sa + g]);
            FloatVector db = FloatVector.broadcast(FS, sc[sb + g]);
            a0 = p0.fma(da, a0);
            a1 = p1.fma(da, a1);
            a2 = p2.fma(da, a2);
            a3 = p3.fma(da, a3);
            c0 = q0.fma(db, c0);
            c1 = q1.fma(db, c1);
            c2 = q2.fma(db, c2);
            c3 = q3.fma(db, c3);
            e += 32;
            p0 = FloatVector.zero(FS);
            p1 = p0;
            p2 = p0;
            p3 = p0;
            q0 = p0;
            q1 = p0;
            q2 = p0;
            q3 = p0;
            for (int l = 0; l < 32; l += L) {
                FloatVector va = FloatVector.fromArray(FS, c, ca + e + l);
                FloatVector vb = FloatVector.fromArray(FS, c, cb + e + l);
                FloatVector xv = FloatVector.fromArray(FS, x, x0 + e + l);
                p0 = va.fma(xv, p0);
                q0 = vb.fma(xv, q0);
                xv = FloatVector.fromArray(FS, x, x1 + e + l);
                p1 = va.fma(xv, p1);
                q1 = vb.fma(xv, q1);
                xv = FloatVector.fromArray(FS, x, x2 + e + l);
                p2 = va.fma(xv, p2);
                q2 = vb.fma(xv, q2);
                xv = FloatVector.fromArray(FS, x, x3 + e + l);
                p3 = va.fma(xv, p3);
                q3 = vb.fma(xv, q3);
            }
            da = FloatVector.broadcast(FS, sc[sa + g + 1]);
            db = FloatVector.broadcast(FS, sc[sb + g + 1]);
            b0 = p0.fma(da, b0);
            b1 = p1.fma(da, b1);
            b2 = p2.fma(da, b2);
            b3 = p3.fma(da, b3);
            d0 = q0.fma(db, d0);
            d1 = q1.fma(db, d1);
            d2 = q2.fma(db, d2);
            d3 = q3.fma(db, d3);
        }
        a0.add(b0).intoArray(lanes, 0);
        a1.add(b1).intoArray(lanes, L);
        a2.add(b2).intoArray(lanes, 2 * L);
        a3.add(b3).intoArray(lanes, 3 * L);
        c0.add(d0).intoArray(lanes, 4 * L);
        c1.add(d1).intoArray(lanes, 5 * L);
        c2.add(d2).intoArray(lanes, 6 * L);
        c3.add(d3).intoArray(lanes, 7 * L);
    }

    /**
     * Q8_0 (BlockDot.q8_0) of rows a and b with four inputs: the blocks of a pair each start with a product, a
     * last odd block from zero; even and odd blocks in separate accumulators, added; lanes as dot2K32's.
     */
    private static void dot2Q8_0(float[] c, int ca, int cb, float[] sc, int sa, int sb, int nb, float[] x, int x0,
                                 int x1, int x2, int x3, float[] lanes) {
        FloatVector a0 = FloatVector.zero(FS);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        FloatVector b0 = a0;
        FloatVector b1 = a0;
        FloatVector b2 = a0;
        FloatVector b3 = a0;
        FloatVector c0 = a0;
        FloatVector c1 = a0;
        FloatVector c2 = a0;
        FloatVector c3 = a0;
        FloatVector d0 = a0;
        FloatVector d1 = a0;
        FloatVector d2 = a0;
        FloatVector d3 = a0;
        int blk = 0;
        for (; blk + 1 < nb; blk += 2) {
            int e = 32 * blk;
            FloatVector va = FloatVector.fromArray(FS, c, ca + e);
            FloatVector vb = FloatVector.fromArray(FS, c, cb + e);
            FloatVector xv = FloatVector.fromArray(FS, x, x0 + e);
            FloatVector p0 = va.mul(xv);
            FloatVector q0 = vb.mul(xv);
            xv = FloatVector.fromArray(FS, x, x1 + e);
            FloatVector p1 = va.mul(xv);
            FloatVector q1 = vb.mul(xv);
            xv = FloatVector.fromArray(FS, x, x2 + e);
            FloatVector p2 = va.mul(xv);
            FloatVector q2 = vb.mul(xv);
            xv = FloatVector.fromArray(FS, x, x3 + e);
            FloatVector p3 = va.mul(xv);
            FloatVector q3 = vb.mul(xv);
            for (int j = L; j < 32; j += L) {
                va = FloatVector.fromArray(FS, c, ca + e + j);
                vb = FloatVector.fromArray(FS, c, cb + e + j);
                xv = FloatVector.fromArray(FS, x, x0 + e + j);
                p0 = va.fma(xv, p0);
                q0 = vb.fma(xv, q0);
                xv = FloatVector.fromArray(FS, x, x1 + e + j);
                p1 = va.fma(xv, p1);
                q1 = vb.fma(xv, q1);
                xv = FloatVector.fromArray(FS, x, x2 + e + j);
                p2 = va.fma(xv, p2);
                q2 = vb.fma(xv, q2);
                xv = FloatVector.fromArray(FS, x, x3 + e + j);
                p3 = va.fma(xv, p3);
                q3 = vb.fma(xv, q3);
            }
            FloatVector da = FloatVector.broadcast(FS, sc[sa + blk]);
            FloatVector db = FloatVector.broadcast(FS, sc[sb + blk]);
            a0 = p0.fma(da, a0);
            a1 = p1.fma(da, a1);
            a2 = p2.fma(da, a2);
            a3 = p3.fma(da, a3);
            c0 = q0.fma(db, c0);
            c1 = q1.fma(db, c1);
            c2 = q2.fma(db, c2);
            c3 = q3.fma(db, c3);
            e += 32;
            va = FloatVector.fromArray(FS, c, ca + e);
            vb = FloatVector.fromArray(FS, c, cb + e);
            xv = FloatVector.fromArray(FS, x, x0 + e);
            p0 = va.mul(xv);
            q0 = vb.mul(xv);
            xv = FloatVector.fromArray(FS, x, x1 + e);
            p1 = va.mul(xv);
            q1 = vb.mul(xv);
            xv = FloatVector.fromArray(FS, x, x2 + e);
            p2 = va.mul(xv);
            q2 = vb.mul(xv);
            xv = FloatVector.fromArray(FS, x, x3 + e);
            p3 = va.mul(xv);
            q3 = vb.mul(xv);
            for (int j = L; j < 32; j += L) {
                va = FloatVector.fromArray(FS, c, ca + e + j);
                vb = FloatVector.fromArray(FS, c, cb + e + j);
                xv = FloatVector.fromArray(FS, x, x0 + e + j);
                p0 = va.fma(xv, p0);
                q0 = vb.fma(xv, q0);
                xv = FloatVector.fromArray(FS, x, x1 + e + j);
                p1 = va.fma(xv, p1);
                q1 = vb.fma(xv, q1);
                xv = FloatVector.fromArray(FS, x, x2 + e + j);
                p2 = va.fma(xv, p2);
                q2 = vb.fma(xv, q2);
                xv = FloatVector.fromArray(FS, x, x3 + e + j);
                p3 = va.fma(xv, p3);
                q3 = vb.fma(xv, q3);
            }
            da = FloatVector.broadcast(FS, sc[sa + blk + 1]);
            db = FloatVector.broadcast(FS, sc[sb + blk + 1]);
            b0 = p0.fma(da, b0);
            b1 = p1.fma(da, b1);
            b2 = p2.fma(da, b2);
            b3 = p3.fma(da, b3);
            d0 = q0.fma(db, d0);
            d1 = q1.fma(db, d1);
            d2 = q2.fma(db, d2);
            d3 = q3.fma(db, d3);
        }
        if (blk < nb) {
            int e = 32 * blk;
            FloatVector p0 = FloatVector.zero(FS);
            FloatVector p1 = p0;
            FloatVector p2 = p0;
            FloatVector p3 = p0;
            FloatVector q0 = p0;
            FloatVector q1 = p0;
            FloatVector q2 = p0;
            FloatVector q3 = p0;
            for (int j = 0; j < 32; j += L) {
                FloatVector va = FloatVector.fromArray(FS, c, ca + e + j);
                FloatVector vb = FloatVector.fromArray(FS, c, cb + e + j);
                FloatVector xv = FloatVector.fromArray(FS, x, x0 + e + j);
                p0 = va.fma(xv, p0);
                q0 = vb.fma(xv, q0);
                xv = FloatVector.fromArray(FS, x, x1 + e + j);
                p1 = va.fma(xv, p1);
                q1 = vb.fma(xv, q1);
                xv = FloatVector.fromArray(FS, x, x2 + e + j);
                p2 = va.fma(xv, p2);
                q2 = vb.fma(xv, q2);
                xv = FloatVector.fromArray(FS, x, x3 + e + j);
                p3 = va.fma(xv, p3);
                q3 = vb.fma(xv, q3);
            }
            FloatVector da = FloatVector.broadcast(FS, sc[sa + blk]);
            FloatVector db = FloatVector.broadcast(FS, sc[sb + blk]);
            a0 = p0.fma(da, a0);
            a1 = p1.fma(da, a1);
            a2 = p2.fma(da, a2);
            a3 = p3.fma(da, a3);
            c0 = q0.fma(db, c0);
            c1 = q1.fma(db, c1);
            c2 = q2.fma(db, c2);
            c3 = q3.fma(db, c3);
        }
        a0.add(b0).intoArray(lanes, 0);
        a1.add(b1).intoArray(lanes, L);
        a2.add(b2).intoArray(lanes, 2 * L);
        a3.add(b3).intoArray(lanes, 3 * L);
        c0.add(d0).intoArray(lanes, 4 * L);
        c1.add(d1).intoArray(lanes, 5 * L);
        c2.add(d2).intoArray(lanes, 6 * L);
        c3.add(d3).intoArray(lanes, 7 * L);
    }

    /** Q4_0 (BlockDot.q4_0): per block a sum over elements 0-15 and one over 16-31, added, then scaled. */
    private static void dotQ4_0(float[] c, int co, float[] sc, int so, int nb, float[] x, int x0, int x1, int x2,
                                int x3, float[] lanes, float[] y, int i0, int i1, int i2, int i3) {
        FloatVector a0 = FloatVector.zero(FS);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        FloatVector b0 = a0;
        FloatVector b1 = a0;
        FloatVector b2 = a0;
        FloatVector b3 = a0;
        for (int b = 0; b < nb; b++) {
            int e = 32 * b;
            FloatVector s0 = FloatVector.zero(FS);
            FloatVector s1 = s0;
            FloatVector s2 = s0;
            FloatVector s3 = s0;
            FloatVector t0 = s0;
            FloatVector t1 = s0;
            FloatVector t2 = s0;
            FloatVector t3 = s0;
            for (int j = 0; j < 16; j += L) {
                FloatVector v = FloatVector.fromArray(FS, c, co + e + j);
                FloatVector u = FloatVector.fromArray(FS, c, co + e + 16 + j);
                s0 = v.fma(FloatVector.fromArray(FS, x, x0 + e + j), s0);
                t0 = u.fma(FloatVector.fromArray(FS, x, x0 + e + 16 + j), t0);
                s1 = v.fma(FloatVector.fromArray(FS, x, x1 + e + j), s1);
                t1 = u.fma(FloatVector.fromArray(FS, x, x1 + e + 16 + j), t1);
                s2 = v.fma(FloatVector.fromArray(FS, x, x2 + e + j), s2);
                t2 = u.fma(FloatVector.fromArray(FS, x, x2 + e + 16 + j), t2);
                s3 = v.fma(FloatVector.fromArray(FS, x, x3 + e + j), s3);
                t3 = u.fma(FloatVector.fromArray(FS, x, x3 + e + 16 + j), t3);
            }
            FloatVector d = FloatVector.broadcast(FS, sc[so + b]);
            if ((b & 1) == 0) {
                a0 = s0.add(t0).fma(d, a0);
                a1 = s1.add(t1).fma(d, a1);
                a2 = s2.add(t2).fma(d, a2);
                a3 = s3.add(t3).fma(d, a3);
            } else {
                b0 = s0.add(t0).fma(d, b0);
                b1 = s1.add(t1).fma(d, b1);
                b2 = s2.add(t2).fma(d, b2);
                b3 = s3.add(t3).fma(d, b3);
            }
        }
        a0.add(b0).intoArray(lanes, 0);
        a1.add(b1).intoArray(lanes, L);
        a2.add(b2).intoArray(lanes, 2 * L);
        a3.add(b3).intoArray(lanes, 3 * L);
        store(lanes, y, i0, i1, i2, i3, 0f, 0f, 0f, 0f, 0);
    }

    /** Q6_K (BlockDot.q6K): four accumulators, one per quarter of each half super-block, products scaled per 16. */
    private static void dotQ6K(float[] c, int co, float[] sc, int so, int nb, float[] x, int x0, int x1, int x2,
                               int x3, float[] lanes, float[] y, int i0, int i1, int i2, int i3) {
        FloatVector a0 = FloatVector.zero(FS);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        FloatVector b0 = a0;
        FloatVector b1 = a0;
        FloatVector b2 = a0;
        FloatVector b3 = a0;
        FloatVector c0 = a0;
        FloatVector c1 = a0;
        FloatVector c2 = a0;
        FloatVector c3 = a0;
        FloatVector d0 = a0;
        FloatVector d1 = a0;
        FloatVector d2 = a0;
        FloatVector d3 = a0;
        for (int h = 0, n = 2 * nb; h < n; h++) {
            for (int l = 0; l < 32; l += L) {
                int e = 128 * h + l;
                int g = so + (e >> 4);
                FloatVector v = FloatVector.fromArray(FS, c, co + e);
                FloatVector d = FloatVector.broadcast(FS, sc[g]);
                a0 = v.mul(FloatVector.fromArray(FS, x, x0 + e)).fma(d, a0);
                a1 = v.mul(FloatVector.fromArray(FS, x, x1 + e)).fma(d, a1);
                a2 = v.mul(FloatVector.fromArray(FS, x, x2 + e)).fma(d, a2);
                a3 = v.mul(FloatVector.fromArray(FS, x, x3 + e)).fma(d, a3);
                v = FloatVector.fromArray(FS, c, co + e + 32);
                d = FloatVector.broadcast(FS, sc[g + 2]);
                b0 = v.mul(FloatVector.fromArray(FS, x, x0 + e + 32)).fma(d, b0);
                b1 = v.mul(FloatVector.fromArray(FS, x, x1 + e + 32)).fma(d, b1);
                b2 = v.mul(FloatVector.fromArray(FS, x, x2 + e + 32)).fma(d, b2);
                b3 = v.mul(FloatVector.fromArray(FS, x, x3 + e + 32)).fma(d, b3);
                v = FloatVector.fromArray(FS, c, co + e + 64);
                d = FloatVector.broadcast(FS, sc[g + 4]);
                c0 = v.mul(FloatVector.fromArray(FS, x, x0 + e + 64)).fma(d, c0);
                c1 = v.mul(FloatVector.fromArray(FS, x, x1 + e + 64)).fma(d, c1);
                c2 = v.mul(FloatVector.fromArray(FS, x, x2 + e + 64)).fma(d, c2);
                c3 = v.mul(FloatVector.fromArray(FS, x, x3 + e + 64)).fma(d, c3);
                v = FloatVector.fromArray(FS, c, co + e + 96);
                d = FloatVector.broadcast(FS, sc[g + 6]);
                d0 = v.mul(FloatVector.fromArray(FS, x, x0 + e + 96)).fma(d, d0);
                d1 = v.mul(FloatVector.fromArray(FS, x, x1 + e + 96)).fma(d, d1);
                d2 = v.mul(FloatVector.fromArray(FS, x, x2 + e + 96)).fma(d, d2);
                d3 = v.mul(FloatVector.fromArray(FS, x, x3 + e + 96)).fma(d, d3);
            }
        }
        a0.add(b0).add(c0.add(d0)).intoArray(lanes, 0);
        a1.add(b1).add(c1.add(d1)).intoArray(lanes, L);
        a2.add(b2).add(c2.add(d2)).intoArray(lanes, 2 * L);
        a3.add(b3).add(c3.add(d3)).intoArray(lanes, 3 * L);
        store(lanes, y, i0, i1, i2, i3, 0f, 0f, 0f, 0f, 0);
    }

    /**
     * Q4_1, Q5_0, Q5_1, MXFP4 (BlockDot.q4_1 ...): one accumulator; per block one sum from zero taking elements j
     * and 16 + j in turn, then scaled; Q4_1/Q5_1 plus their min chain ({@code mp} non-null).
     */
    private static void dotHalves(float[] c, int co, float[] sc, int so, int nb, float[] x, int x0, int x1, int x2,
                                  int x3, float[] lanes, float[] y, int i0, int i1, int i2, int i3, float m0,
                                  float m1, float m2, float m3, int minSign) {
        FloatVector a0 = FloatVector.zero(FS);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        for (int b = 0; b < nb; b++) {
            int e = 32 * b;
            FloatVector s0 = FloatVector.zero(FS);
            FloatVector s1 = s0;
            FloatVector s2 = s0;
            FloatVector s3 = s0;
            for (int j = 0; j < 16; j += L) {
                FloatVector v = FloatVector.fromArray(FS, c, co + e + j);
                FloatVector u = FloatVector.fromArray(FS, c, co + e + 16 + j);
                s0 = u.fma(FloatVector.fromArray(FS, x, x0 + e + 16 + j),
                        v.fma(FloatVector.fromArray(FS, x, x0 + e + j), s0));
                s1 = u.fma(FloatVector.fromArray(FS, x, x1 + e + 16 + j),
                        v.fma(FloatVector.fromArray(FS, x, x1 + e + j), s1));
                s2 = u.fma(FloatVector.fromArray(FS, x, x2 + e + 16 + j),
                        v.fma(FloatVector.fromArray(FS, x, x2 + e + j), s2));
                s3 = u.fma(FloatVector.fromArray(FS, x, x3 + e + 16 + j),
                        v.fma(FloatVector.fromArray(FS, x, x3 + e + j), s3));
            }
            FloatVector d = FloatVector.broadcast(FS, sc[so + b]);
            a0 = s0.fma(d, a0);
            a1 = s1.fma(d, a1);
            a2 = s2.fma(d, a2);
            a3 = s3.fma(d, a3);
        }
        a0.intoArray(lanes, 0);
        a1.intoArray(lanes, L);
        a2.intoArray(lanes, 2 * L);
        a3.intoArray(lanes, 3 * L);
        store(lanes, y, i0, i1, i2, i3, m0, m1, m2, m3, minSign);
    }

    /** Q2_K, Q3_K (BlockDot.q2K/q3K): one accumulator of products scaled per 16; Q2_K minus its min chain. */
    private static void dotSixteens(float[] c, int co, float[] sc, int so, int nb, float[] x, int x0, int x1, int x2,
                                    int x3, float[] lanes, float[] y, int i0, int i1, int i2, int i3, float m0,
                                    float m1, float m2, float m3, int minSign) {
        FloatVector a0 = FloatVector.zero(FS);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        for (int e = 0, n = 256 * nb; e < n; e += L) {
            FloatVector v = FloatVector.fromArray(FS, c, co + e);
            FloatVector d = FloatVector.broadcast(FS, sc[so + (e >> 4)]);
            a0 = v.mul(FloatVector.fromArray(FS, x, x0 + e)).fma(d, a0);
            a1 = v.mul(FloatVector.fromArray(FS, x, x1 + e)).fma(d, a1);
            a2 = v.mul(FloatVector.fromArray(FS, x, x2 + e)).fma(d, a2);
            a3 = v.mul(FloatVector.fromArray(FS, x, x3 + e)).fma(d, a3);
        }
        a0.intoArray(lanes, 0);
        a1.intoArray(lanes, L);
        a2.intoArray(lanes, 2 * L);
        a3.intoArray(lanes, 3 * L);
        store(lanes, y, i0, i1, i2, i3, m0, m1, m2, m3, minSign);
    }
}
