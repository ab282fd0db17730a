package io.strata.kernels.cpu;

import io.strata.core.model.DType;
import io.strata.core.model.Layout;
import io.strata.core.weights.TensorView;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API matvec over F32, BF16 and F16 weights in either layout. 16-bit weights are read as int lanes that
 * each hold an (even, odd) element pair and widened in registers, so nothing is decoded to memory: for row-major
 * weights x is split once into its even and odd halves; for column-major weights even and odd outputs are
 * accumulated separately and interleaved at the end of a block.
 */
final class VectorMatVec implements MatVec {
    static final VectorMatVec INSTANCE = new VectorMatVec();
    static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> IS = FS.vectorShape().withLanes(int.class);
    static final int L = FS.length();
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private static final class Scratch {
        float[] even = new float[0];
        float[] odd = new float[0];
        final float[] tmpE = new float[L];
        final float[] tmpO = new float[L];

        void ensure(int n) {
            if (even.length < n) {
                even = new float[n];
                odd = new float[n];
            }
        }
    }

    @Override
    public void apply(TensorView w, float[] x, int xOff, float[] y, int yOff, int rowFrom, int rowTo) {
        MatVec.checkShape(w, x, xOff, y, yOff, rowFrom, rowTo);
        int out = Math.toIntExact(w.rows());
        int in = Math.toIntExact(w.cols());
        MemorySegment d = w.data();
        boolean row = w.layout() == Layout.ROW;
        DType t = w.dtype();
        switch (t) {
            case F32 -> {
                if (row) {
                    f32Row(d, in, x, xOff, y, yOff, rowFrom, rowTo);
                } else {
                    f32Col(d, out, in, x, xOff, y, yOff, rowFrom, rowTo);
                }
            }
            case BF16, F16 -> {
                boolean bf = t == DType.BF16;
                if (row && (in & 1) == 0) {
                    halfRow(d, bf, in, x, xOff, y, yOff, rowFrom, rowTo);
                } else if (!row && (out & 1) == 0) {
                    halfCol(d, bf, out, in, x, xOff, y, yOff, rowFrom, rowTo);
                } else {
                    ScalarMatVec.INSTANCE.apply(w, x, xOff, y, yOff, rowFrom, rowTo);
                }
            }
            default -> throw new IllegalArgumentException(w.name() + ": matvec does not support dtype " + t
                    + " (use Int8MatVec for I8 with scales)");
        }
    }

    private static void f32Row(MemorySegment d, int in, float[] x, int xOff, float[] y, int yOff, int from, int to) {
        int bound4 = in - 4 * L;
        int bound1 = in - L;
        float[] lanes = SCRATCH.get().tmpE;
        for (int o = from; o < to; o++) {
            long base = (long) o * in * 4;
            FloatVector a0 = FloatVector.zero(FS);
            FloatVector a1 = a0;
            FloatVector a2 = a0;
            FloatVector a3 = a0;
            int i = 0;
            for (; i <= bound4; i += 4 * L) {
                long b = base + (long) i * 4;
                a0 = FloatVector.fromMemorySegment(FS, d, b, LE).fma(FloatVector.fromArray(FS, x, xOff + i), a0);
                a1 = FloatVector.fromMemorySegment(FS, d, b + 4L * L, LE)
                        .fma(FloatVector.fromArray(FS, x, xOff + i + L), a1);
                a2 = FloatVector.fromMemorySegment(FS, d, b + 8L * L, LE)
                        .fma(FloatVector.fromArray(FS, x, xOff + i + 2 * L), a2);
                a3 = FloatVector.fromMemorySegment(FS, d, b + 12L * L, LE)
                        .fma(FloatVector.fromArray(FS, x, xOff + i + 3 * L), a3);
            }
            for (; i <= bound1; i += L) {
                a0 = FloatVector.fromMemorySegment(FS, d, base + (long) i * 4, LE)
                        .fma(FloatVector.fromArray(FS, x, xOff + i), a0);
            }
            float s = Lanes.sum(a0.add(a1).add(a2.add(a3)), lanes);
            for (; i < in; i++) {
                s += d.get(FloatCodec.F32_LE, base + (long) i * 4) * x[xOff + i];
            }
            y[yOff + o] = s;
        }
    }

    private static void f32Col(MemorySegment d, int out, int in, float[] x, int xOff, float[] y, int yOff,
                               int from, int to) {
        long stride = (long) out * 4;
        int o = from;
        for (; o <= to - 4 * L; o += 4 * L) {
            FloatVector a0 = FloatVector.zero(FS);
            FloatVector a1 = a0;
            FloatVector a2 = a0;
            FloatVector a3 = a0;
            long b = (long) o * 4;
            for (int i = 0; i < in; i++, b += stride) {
                FloatVector xi = FloatVector.broadcast(FS, x[xOff + i]);
                a0 = FloatVector.fromMemorySegment(FS, d, b, LE).fma(xi, a0);
                a1 = FloatVector.fromMemorySegment(FS, d, b + 4L * L, LE).fma(xi, a1);
                a2 = FloatVector.fromMemorySegment(FS, d, b + 8L * L, LE).fma(xi, a2);
                a3 = FloatVector.fromMemorySegment(FS, d, b + 12L * L, LE).fma(xi, a3);
            }
            a0.intoArray(y, yOff + o);
            a1.intoArray(y, yOff + o + L);
            a2.intoArray(y, yOff + o + 2 * L);
            a3.intoArray(y, yOff + o + 3 * L);
        }
        for (; o <= to - L; o += L) {
            FloatVector a0 = FloatVector.zero(FS);
            long b = (long) o * 4;
            for (int i = 0; i < in; i++, b += stride) {
                a0 = FloatVector.fromMemorySegment(FS, d, b, LE).fma(FloatVector.broadcast(FS, x[xOff + i]), a0);
            }
            a0.intoArray(y, yOff + o);
        }
        for (; o < to; o++) {
            float s = 0f;
            for (int i = 0; i < in; i++) {
                s += d.get(FloatCodec.F32_LE, ((long) i * out + o) * 4) * x[xOff + i];
            }
            y[yOff + o] = s;
        }
    }

    /** Even elements of an int lane pair, widened to float. */
    static FloatVector lo(IntVector v, boolean bf16) {
        return bf16 ? v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats() : f16(v.and(0xFFFF));
    }

    /** Odd elements of an int lane pair, widened to float. */
    static FloatVector hi(IntVector v, boolean bf16) {
        return bf16 ? v.and(0xFFFF0000).reinterpretAsFloats() : f16(v.lanewise(VectorOperators.LSHR, 16));
    }

    /**
     * IEEE half (in the low 16 bits of each lane) to float: shifting exponent and mantissa into place and scaling
     * by 2^112 is exact for normal and subnormal halves; infinities and NaNs get an all-ones exponent instead.
     */
    static FloatVector f16(IntVector h) {
        IntVector sign = h.and(0x8000).lanewise(VectorOperators.LSHL, 16);
        IntVector em = h.and(0x7FFF);
        IntVector finite = em.lanewise(VectorOperators.LSHL, 13).reinterpretAsFloats().mul(0x1p112f)
                .reinterpretAsInts();
        IntVector special = em.and(0x3FF).lanewise(VectorOperators.LSHL, 13).or(0x7F800000);
        return finite.blend(special, em.compare(VectorOperators.GE, 0x7C00)).or(sign).reinterpretAsFloats();
    }

    private static void halfRow(MemorySegment d, boolean bf, int in, float[] x, int xOff, float[] y, int yOff,
                                int from, int to) {
        int pairs = in / 2;
        Scratch s = SCRATCH.get();
        s.ensure(pairs);
        float[] xe = s.even;
        float[] xo = s.odd;
        for (int j = 0; j < pairs; j++) {
            xe[j] = x[xOff + 2 * j];
            xo[j] = x[xOff + 2 * j + 1];
        }
        DType t = bf ? DType.BF16 : DType.F16;
        for (int o = from; o < to; o++) {
            long base = (long) o * in * 2;
            FloatVector a0 = FloatVector.zero(FS);
            FloatVector b0 = a0;
            FloatVector a1 = a0;
            FloatVector b1 = a0;
            int j = 0;
            for (; j <= pairs - 2 * L; j += 2 * L) {
                IntVector v0 = IntVector.fromMemorySegment(IS, d, base + (long) j * 4, LE);
                IntVector v1 = IntVector.fromMemorySegment(IS, d, base + (long) (j + L) * 4, LE);
                a0 = lo(v0, bf).fma(FloatVector.fromArray(FS, xe, j), a0);
                b0 = hi(v0, bf).fma(FloatVector.fromArray(FS, xo, j), b0);
                a1 = lo(v1, bf).fma(FloatVector.fromArray(FS, xe, j + L), a1);
                b1 = hi(v1, bf).fma(FloatVector.fromArray(FS, xo, j + L), b1);
            }
            for (; j <= pairs - L; j += L) {
                IntVector v0 = IntVector.fromMemorySegment(IS, d, base + (long) j * 4, LE);
                a0 = lo(v0, bf).fma(FloatVector.fromArray(FS, xe, j), a0);
                b0 = hi(v0, bf).fma(FloatVector.fromArray(FS, xo, j), b0);
            }
            float acc = Lanes.sum(a0.add(b0).add(a1.add(b1)), s.tmpE);
            long e = (long) o * in;
            for (; j < pairs; j++) {
                acc += FloatCodec.get(d, t, e + 2L * j) * xe[j] + FloatCodec.get(d, t, e + 2L * j + 1) * xo[j];
            }
            y[yOff + o] = acc;
        }
    }

    private static void halfCol(MemorySegment d, boolean bf, int out, int in, float[] x, int xOff, float[] y,
                                int yOff, int from, int to) {
        DType t = bf ? DType.BF16 : DType.F16;
        long stride = (long) out * 2;
        int o = from;
        if ((o & 1) != 0 && o < to) {
            y[yOff + o] = scalarCol(d, t, out, in, x, xOff, o);
            o++;
        }
        Scratch s = SCRATCH.get();
        // Blocks of 2L outputs: one int vector holds L (even, odd) output pairs.
        for (; o <= to - 2 * L; o += 2 * L) {
            FloatVector ae = FloatVector.zero(FS);
            FloatVector ao = ae;
            long b = (long) o * 2;
            for (int i = 0; i < in; i++, b += stride) {
                FloatVector xi = FloatVector.broadcast(FS, x[xOff + i]);
                IntVector v = IntVector.fromMemorySegment(IS, d, b, LE);
                ae = lo(v, bf).fma(xi, ae);
                ao = hi(v, bf).fma(xi, ao);
            }
            ae.intoArray(s.tmpE, 0);
            ao.intoArray(s.tmpO, 0);
            for (int k = 0; k < L; k++) {
                y[yOff + o + 2 * k] = s.tmpE[k];
                y[yOff + o + 2 * k + 1] = s.tmpO[k];
            }
        }
        for (; o < to; o++) {
            y[yOff + o] = scalarCol(d, t, out, in, x, xOff, o);
        }
    }

    private static float scalarCol(MemorySegment d, DType t, int out, int in, float[] x, int xOff, int o) {
        float acc = 0f;
        for (int i = 0; i < in; i++) {
            acc += FloatCodec.get(d, t, (long) i * out + o) * x[xOff + i];
        }
        return acc;
    }
}
