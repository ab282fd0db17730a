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
 * each hold an (even, odd) element pair and widened in registers (F16 rows through a small per-thread buffer, see
 * {@link #f16Pair}), so no weight is decoded to memory: for row-major
 * weights x is split once into its even and odd halves; for column-major weights even and odd outputs are
 * accumulated separately and interleaved at the end of a block.
 *
 * <p>Row-major rows are computed two at a time (two rows of one weight, or the same row of a gate and an up
 * projection), sharing every load of x: with one row per loop the x loads and the per-row horizontal sum kept a
 * core below the memory's streaming rate. Each row's float operations are the same whether it is computed in a
 * pair or alone, so results do not depend on how rows are grouped or split over threads.
 *
 * <p>The row loops of F32, F16 and BF16 ({@code f32Rows}, {@code halfRows}, {@code gateUpRows}) hand their rows to
 * the bit-identical native kernels when {@link NativeKernels#enabled} (see {@link CpuKernels}), and so do the
 * batched forms ({@link #nativeBatch}: 4 rows x 6 inputs register tiles that run one accumulator chain at a
 * time); {@link #bf16Quad} is the Java batch kernel.
 */
final class VectorMatVec implements MatVec {
    static final VectorMatVec INSTANCE = new VectorMatVec();
    static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> IS = FS.vectorShape().withLanes(int.class);
    static final int L = FS.length();
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /** Per-thread buffers: x split into even and odd elements (for a batch, every input's halves). */
    private static final class Scratch {
        float[] even = new float[0];
        float[] odd = new float[0];
        final float[] tmpE = new float[L];
        final float[] tmpO = new float[L];
        /** Heap segments of the arrays handed to the native kernels. */
        final NativeKernels.Segs segs = new NativeKernels.Segs();

        void ensure(int n) {
            if (even.length < n) {
                even = new float[n];
                odd = new float[n];
            }
        }

        /** Splits x[xOff .. xOff + 2 * pairs) into even[at ..] and odd[at ..]. */
        void split(float[] x, int xOff, int pairs, int at) {
            for (int j = 0; j < pairs; j++) {
                even[at + j] = x[xOff + 2 * j];
                odd[at + j] = x[xOff + 2 * j + 1];
            }
        }
    }

    /** How one row-major weight is read: 0 = not by the row kernels here (column-major, odd width, ...). */
    private static int rowKind(TensorView w) {
        if (w.layout() != Layout.ROW) {
            return 0;
        }
        return switch (w.dtype()) {
            case F32 -> 1;
            case BF16 -> (w.cols() & 1) == 0 ? 2 : 0;
            case F16 -> (w.cols() & 1) == 0 ? 3 : 0;
            default -> 0;
        };
    }

    @Override
    public void apply(TensorView w, float[] x, int xOff, float[] y, int yOff, int rowFrom, int rowTo) {
        MatVec.checkShape(w, x, xOff, y, yOff, rowFrom, rowTo);
        int out = Math.toIntExact(w.rows());
        int in = Math.toIntExact(w.cols());
        MemorySegment d = w.data();
        DType t = w.dtype();
        int kind = rowKind(w);
        if (kind == 1) {
            f32Rows(d, in, x, xOff, y, yOff, rowFrom, rowTo, SCRATCH.get());
            return;
        }
        if (kind > 1) {
            Scratch s = SCRATCH.get();
            s.ensure(in / 2);
            s.split(x, xOff, in / 2, 0);
            halfRows(d, kind == 2, in, s, 0, y, yOff, rowFrom, rowTo);
            return;
        }
        switch (t) {
            case F32 -> f32Col(d, out, in, x, xOff, y, yOff, rowFrom, rowTo);
            case BF16, F16 -> {
                if (w.layout() != Layout.ROW && (out & 1) == 0) {
                    halfCol(d, t == DType.BF16, out, in, x, xOff, y, yOff, rowFrom, rowTo);
                } else {
                    ScalarMatVec.INSTANCE.apply(w, x, xOff, y, yOff, rowFrom, rowTo);
                }
            }
            default -> throw new IllegalArgumentException(w.name() + ": matvec does not support dtype " + t
                    + " (use Int8MatVec for I8 with scales)");
        }
    }

    @Override
    public void applyGateUp(TensorView w1, TensorView w3, float[] x, int xOff, float[] gate, int gOff, float[] up,
                            int uOff, int rowFrom, int rowTo) {
        if (!samePairKind(w1, w3)) {
            MatVec.super.applyGateUp(w1, w3, x, xOff, gate, gOff, up, uOff, rowFrom, rowTo);
            return;
        }
        MatVec.checkShape(w1, x, xOff, gate, gOff, rowFrom, rowTo);
        MatVec.checkShape(w3, x, xOff, up, uOff, rowFrom, rowTo);
        Scratch s = SCRATCH.get();
        int in = Math.toIntExact(w1.cols());
        if (rowKind(w1) > 1) {
            s.ensure(in / 2);
            s.split(x, xOff, in / 2, 0);
        }
        gateUpRows(w1, w3, x, xOff, s, 0, gate, gOff, up, uOff, rowFrom, rowTo);
    }

    @Override
    public void applyGateUpBatch(TensorView w1, TensorView w3, float[] x, int xOff, int xStride, int count,
                                 float[] gate, float[] up, int yOff, int yStride, int rowFrom, int rowTo) {
        if (!samePairKind(w1, w3) || count < 1) {
            MatVec.super.applyGateUpBatch(w1, w3, x, xOff, xStride, count, gate, up, yOff, yStride, rowFrom, rowTo);
            return;
        }
        for (int t = 0; t < count; t++) {
            MatVec.checkShape(w1, x, xOff + t * xStride, gate, yOff + t * yStride, rowFrom, rowTo);
            MatVec.checkShape(w3, x, xOff + t * xStride, up, yOff + t * yStride, rowFrom, rowTo);
        }
        Scratch s = SCRATCH.get();
        if (count > 1 && nativeBatch(w1, x, xOff, xStride, count, gate, yOff, yStride, rowFrom, rowTo, s)
                && nativeBatch(w3, x, xOff, xStride, count, up, yOff, yStride, rowFrom, rowTo, s)) {
            for (int t = 0; t < count; t++) {
                SwiGlu.gateInPlace(gate, yOff + t * yStride, up, yOff + t * yStride, rowFrom, rowTo);
            }
            return;
        }
        int pairs = Math.toIntExact(w1.cols()) / 2;
        boolean half = rowKind(w1) > 1;
        if (half) {
            s.ensure(pairs * count);
            for (int t = 0; t < count; t++) {
                s.split(x, xOff + t * xStride, pairs, t * pairs);
            }
        }
        int block = Math.max(2, MatVec.blockRows(w1) / 2);
        boolean bf = rowKind(w1) == 2;
        long rb = (long) pairs * 4;
        MemorySegment d1 = w1.data();
        MemorySegment d3 = w3.data();
        for (int r = rowFrom; r < rowTo; r += block) {
            int end = Math.min(rowTo, r + block);
            int t = 0;
            for (; bf && t + 1 < count; t += 2) {
                int y0 = yOff + t * yStride;
                int y1 = y0 + yStride;
                for (int o = r; o < end; o++) {
                    bf16Quad(d1, o * rb, gate, d3, o * rb, up, y0 + o, y0 + o, y1 + o, y1 + o, pairs, s, t * pairs,
                            (t + 1) * pairs);
                }
                SwiGlu.gateInPlace(gate, y0, up, y0, r, end);
                SwiGlu.gateInPlace(gate, y1, up, y1, r, end);
            }
            for (; t < count; t++) {
                int y = yOff + t * yStride;
                gateUpRows(w1, w3, x, xOff + t * xStride, s, t * pairs, gate, y, up, y, r, end);
            }
        }
    }

    @Override
    public void applyBatch(TensorView w, float[] x, int xOff, int xStride, int count, float[] y, int yOff,
                           int yStride, int rowFrom, int rowTo) {
        int kind = rowKind(w);
        if (count == 1) {
            apply(w, x, xOff, y, yOff, rowFrom, rowTo);
            return;
        }
        if (kind == 0 || count < 1) {
            MatVec.super.applyBatch(w, x, xOff, xStride, count, y, yOff, yStride, rowFrom, rowTo);
            return;
        }
        for (int t = 0; t < count; t++) {
            MatVec.checkShape(w, x, xOff + t * xStride, y, yOff + t * yStride, rowFrom, rowTo);
        }
        Scratch s = SCRATCH.get();
        if (nativeBatch(w, x, xOff, xStride, count, y, yOff, yStride, rowFrom, rowTo, s)) {
            return;
        }
        if (kind == 1) {
            MatVec.super.applyBatch(w, x, xOff, xStride, count, y, yOff, yStride, rowFrom, rowTo);
            return;
        }
        int in = Math.toIntExact(w.cols());
        int pairs = in / 2;
        s.ensure(pairs * count);
        for (int t = 0; t < count; t++) {
            s.split(x, xOff + t * xStride, pairs, t * pairs);
        }
        int block = MatVec.blockRows(w);
        MemorySegment d = w.data();
        long rb = (long) in * 2;
        for (int r = rowFrom; r < rowTo; r += block) {
            int end = Math.min(rowTo, r + block);
            int t = 0;
            for (; kind == 2 && t + 1 < count; t += 2) {
                int y0 = yOff + t * yStride;
                int y1 = y0 + yStride;
                for (int o = r; o < end; o += 2) {
                    int o1 = Math.min(o + 1, end - 1);
                    bf16Quad(d, o * rb, y, d, o1 * rb, y, y0 + o, y0 + o1, y1 + o, y1 + o1, pairs, s, t * pairs,
                            (t + 1) * pairs);
                }
            }
            for (; t < count; t++) {
                halfRows(d, kind == 2, in, s, t * pairs, y, yOff + t * yStride, r, end);
            }
        }
    }

    /**
     * The native batch kernel ({@link NativeKernels#batch}: register tiles of rows x inputs, each dot product
     * with the row kernel's operations) for a checked batch of a row-major weight, when native kernels are on;
     * false (nothing written) when the Java code must run.
     */
    private static boolean nativeBatch(TensorView w, float[] x, int xOff, int xStride, int count, float[] y,
                                       int yOff, int yStride, int rowFrom, int rowTo, Scratch s) {
        int kind = rowKind(w);
        if (!NativeKernels.enabled || kind == 0 || rowTo <= rowFrom) {
            return false;
        }
        int n = kind == 1 ? Math.toIntExact(w.cols()) : Math.toIntExact(w.cols()) / 2;
        return NativeKernels.batch(s.segs, kind, w.data(), n, x, xOff, xStride, count, y, yOff, yStride, rowFrom,
                rowTo);
    }

    /** Both weights row-major, of one element type these kernels read, and of one shape. */
    private static boolean samePairKind(TensorView w1, TensorView w3) {
        int kind = rowKind(w1);
        return kind != 0 && kind == rowKind(w3) && w1.cols() == w3.cols() && w1.rows() == w3.rows();
    }

    /**
     * Rows [from, to) of gate = silu(W1 x) * W3 x, the same row of both weights per step of the loop; x is
     * x[xOff ..] for F32 and s.even/odd[xs ..] for 16-bit weights.
     */
    private static void gateUpRows(TensorView w1, TensorView w3, float[] x, int xOff, Scratch s, int xs,
                                   float[] gate, int gOff, float[] up, int uOff, int from, int to) {
        int kind = rowKind(w1);
        int in = Math.toIntExact(w1.cols());
        MemorySegment d1 = w1.data();
        MemorySegment d3 = w3.data();
        if (NativeKernels.enabled) {
            if (kind == 1) {
                NativeKernels.f32GateUp(s.segs, d1, d3, in, x, xOff, gate, gOff, up, uOff, from, to);
            } else {
                NativeKernels.halfGateUp(s.segs, kind == 2, d1, d3, in / 2, s.even, s.odd, xs, gate, gOff, up, uOff,
                        from, to);
            }
        } else if (kind == 1) {
            long rb = (long) in * 4;
            for (int o = from; o < to; o++) {
                f32Pair(d1, o * rb, gate, gOff + o, d3, o * rb, up, uOff + o, in, x, xOff);
            }
        } else {
            long rb = (long) in * 2;
            for (int o = from; o < to; o++) {
                halfPair(kind == 2, d1, o * rb, gate, gOff + o, d3, o * rb, up, uOff + o, in / 2, s, xs);
            }
        }
        SwiGlu.gateInPlace(gate, gOff, up, uOff, from, to);
    }

    /** Rows [from, to) of a row-major F32 weight, two at a time. */
    private static void f32Rows(MemorySegment d, int in, float[] x, int xOff, float[] y, int yOff, int from, int to,
                                Scratch s) {
        if (NativeKernels.enabled) {
            NativeKernels.f32Rows(s.segs, d, in, x, xOff, y, yOff, from, to);
            return;
        }
        long rb = (long) in * 4;
        int o = from;
        for (; o + 1 < to; o += 2) {
            f32Pair(d, o * rb, y, yOff + o, d, (o + 1) * rb, y, yOff + o + 1, in, x, xOff);
        }
        if (o < to) {
            f32Pair(d, o * rb, y, yOff + o, d, o * rb, y, yOff + o, in, x, xOff);
        }
    }

    /**
     * Two F32 dot products with x, one row at byte {@code b0} of d0 and one at {@code b1} of d1, written to
     * y0[i0] and y1[i1]. Per row: four accumulators over blocks of 4L, then single vectors into the first,
     * (a0 + a1) + (a2 + a3) summed in {@link Lanes} tree order, then the scalar tail. A lone row is computed as
     * a pair of itself, so it gets the same bits.
     */
    private static void f32Pair(MemorySegment d0, long b0, float[] y0, int i0, MemorySegment d1, long b1, float[] y1,
                                int i1, int in, float[] x, int xOff) {
        FloatVector a0 = FloatVector.zero(FS);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        FloatVector c0 = a0;
        FloatVector c1 = a0;
        FloatVector c2 = a0;
        FloatVector c3 = a0;
        int i = 0;
        for (; i <= in - 4 * L; i += 4 * L) {
            long o = (long) i * 4;
            FloatVector x0 = FloatVector.fromArray(FS, x, xOff + i);
            FloatVector x1 = FloatVector.fromArray(FS, x, xOff + i + L);
            FloatVector x2 = FloatVector.fromArray(FS, x, xOff + i + 2 * L);
            FloatVector x3 = FloatVector.fromArray(FS, x, xOff + i + 3 * L);
            a0 = FloatVector.fromMemorySegment(FS, d0, b0 + o, LE).fma(x0, a0);
            c0 = FloatVector.fromMemorySegment(FS, d1, b1 + o, LE).fma(x0, c0);
            a1 = FloatVector.fromMemorySegment(FS, d0, b0 + o + 4L * L, LE).fma(x1, a1);
            c1 = FloatVector.fromMemorySegment(FS, d1, b1 + o + 4L * L, LE).fma(x1, c1);
            a2 = FloatVector.fromMemorySegment(FS, d0, b0 + o + 8L * L, LE).fma(x2, a2);
            c2 = FloatVector.fromMemorySegment(FS, d1, b1 + o + 8L * L, LE).fma(x2, c2);
            a3 = FloatVector.fromMemorySegment(FS, d0, b0 + o + 12L * L, LE).fma(x3, a3);
            c3 = FloatVector.fromMemorySegment(FS, d1, b1 + o + 12L * L, LE).fma(x3, c3);
        }
        for (; i <= in - L; i += L) {
            FloatVector xi = FloatVector.fromArray(FS, x, xOff + i);
            a0 = FloatVector.fromMemorySegment(FS, d0, b0 + (long) i * 4, LE).fma(xi, a0);
            c0 = FloatVector.fromMemorySegment(FS, d1, b1 + (long) i * 4, LE).fma(xi, c0);
        }
        // tree sums of both rows (Lanes): the first in lane 0, the second in lane L / 2
        FloatVector ra = a0.add(a1).add(a2.add(a3));
        FloatVector rb = c0.add(c1).add(c2.add(c3));
        FloatVector sums = ra.blend(rb, Lanes.HALF).add(rb.blend(ra, Lanes.HALF).rearrange(Lanes.XH));
        if (L >= 4) {
            sums = sums.add(sums.rearrange(Lanes.XQ));
        }
        if (L >= 8) {
            sums = sums.add(sums.rearrange(Lanes.X8));
        }
        if (L >= 16) {
            sums = sums.add(sums.rearrange(Lanes.X16));
        }
        if (L >= 32) {
            sums = sums.add(sums.rearrange(Lanes.X32));
        }
        if (L >= 64) {
            sums = sums.add(sums.rearrange(Lanes.X64));
        }
        float s0 = sums.lane(0);
        float s1 = sums.lane(L / 2);
        for (; i < in; i++) {
            s0 += d0.get(FloatCodec.F32_LE, b0 + (long) i * 4) * x[xOff + i];
            s1 += d1.get(FloatCodec.F32_LE, b1 + (long) i * 4) * x[xOff + i];
        }
        y0[i0] = s0;
        y1[i1] = s1;
    }

    /** Rows [from, to) of a row-major 16-bit weight against x split at s.even/odd[xs ..], two at a time. */
    private static void halfRows(MemorySegment d, boolean bf, int in, Scratch s, int xs, float[] y, int yOff,
                                 int from, int to) {
        int pairs = in / 2;
        if (NativeKernels.enabled) {
            NativeKernels.halfRows(s.segs, bf, d, pairs, s.even, s.odd, xs, y, yOff, from, to);
            return;
        }
        long rb = (long) in * 2;
        int o = from;
        for (; o + 1 < to; o += 2) {
            halfPair(bf, d, o * rb, y, yOff + o, d, (o + 1) * rb, y, yOff + o + 1, pairs, s, xs);
        }
        if (o < to) {
            halfPair(bf, d, o * rb, y, yOff + o, d, o * rb, y, yOff + o, pairs, s, xs);
        }
    }

    /**
     * Two 16-bit dot products sharing the loads of x's halves, written to y0[i0] and y1[i1]. Per row: even and
     * odd accumulators over int vectors j and j + L (e, f, g, h), a last single vector into e and f,
     * (e + f) + (g + h) summed in {@link Lanes} tree order, then the scalar tail. A lone row is computed as a pair of itself.
     * BF16 and F16 have a loop each: a loop that could widen either way kept C2 from inlining the F16
     * conversion, and the boxed vectors that followed made both several times slower.
     */
    private static void halfPair(boolean bf, MemorySegment d0, long b0, float[] y0, int i0, MemorySegment d1,
                                 long b1, float[] y1, int i1, int pairs, Scratch s, int xs) {
        if (bf) {
            bf16Pair(d0, b0, y0, i0, d1, b1, y1, i1, pairs, s, xs);
        } else {
            f16Pair(d0, b0, y0, i0, d1, b1, y1, i1, pairs, s, xs);
        }
    }

    private static void bf16Pair(MemorySegment d0, long b0, float[] y0, int i0, MemorySegment d1, long b1,
                                 float[] y1, int i1, int pairs, Scratch s, int xs) {
        float[] xe = s.even;
        float[] xo = s.odd;
        FloatVector e0 = FloatVector.zero(FS);
        FloatVector f0 = e0;
        FloatVector g0 = e0;
        FloatVector h0 = e0;
        FloatVector e1 = e0;
        FloatVector f1 = e0;
        FloatVector g1 = e0;
        FloatVector h1 = e0;
        int j = 0;
        for (; j <= pairs - 2 * L; j += 2 * L) {
            FloatVector xe0 = FloatVector.fromArray(FS, xe, xs + j);
            FloatVector xo0 = FloatVector.fromArray(FS, xo, xs + j);
            FloatVector xe1 = FloatVector.fromArray(FS, xe, xs + j + L);
            FloatVector xo1 = FloatVector.fromArray(FS, xo, xs + j + L);
            long off = (long) j * 4;
            IntVector v0 = IntVector.fromMemorySegment(IS, d0, b0 + off, LE);
            IntVector u0 = IntVector.fromMemorySegment(IS, d0, b0 + off + 4L * L, LE);
            IntVector v1 = IntVector.fromMemorySegment(IS, d1, b1 + off, LE);
            IntVector u1 = IntVector.fromMemorySegment(IS, d1, b1 + off + 4L * L, LE);
            e0 = v0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe0, e0);
            f0 = v0.and(0xFFFF0000).reinterpretAsFloats().fma(xo0, f0);
            g0 = u0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe1, g0);
            h0 = u0.and(0xFFFF0000).reinterpretAsFloats().fma(xo1, h0);
            e1 = v1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe0, e1);
            f1 = v1.and(0xFFFF0000).reinterpretAsFloats().fma(xo0, f1);
            g1 = u1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe1, g1);
            h1 = u1.and(0xFFFF0000).reinterpretAsFloats().fma(xo1, h1);
        }
        for (; j <= pairs - L; j += L) {
            FloatVector xe0 = FloatVector.fromArray(FS, xe, xs + j);
            FloatVector xo0 = FloatVector.fromArray(FS, xo, xs + j);
            IntVector v0 = IntVector.fromMemorySegment(IS, d0, b0 + (long) j * 4, LE);
            IntVector v1 = IntVector.fromMemorySegment(IS, d1, b1 + (long) j * 4, LE);
            e0 = v0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe0, e0);
            f0 = v0.and(0xFFFF0000).reinterpretAsFloats().fma(xo0, f0);
            e1 = v1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe0, e1);
            f1 = v1.and(0xFFFF0000).reinterpretAsFloats().fma(xo0, f1);
        }
        // tree sums of both rows (Lanes): the first in lane 0, the second in lane L / 2
        FloatVector ra = e0.add(f0).add(g0.add(h0));
        FloatVector rb = e1.add(f1).add(g1.add(h1));
        FloatVector sums = ra.blend(rb, Lanes.HALF).add(rb.blend(ra, Lanes.HALF).rearrange(Lanes.XH));
        if (L >= 4) {
            sums = sums.add(sums.rearrange(Lanes.XQ));
        }
        if (L >= 8) {
            sums = sums.add(sums.rearrange(Lanes.X8));
        }
        if (L >= 16) {
            sums = sums.add(sums.rearrange(Lanes.X16));
        }
        if (L >= 32) {
            sums = sums.add(sums.rearrange(Lanes.X32));
        }
        if (L >= 64) {
            sums = sums.add(sums.rearrange(Lanes.X64));
        }
        float s0 = sums.lane(0);
        float s1 = sums.lane(L / 2);
        if (j < pairs) {
            s0 = halfTail(true, d0, b0, j, pairs, xe, xo, xs, s0);
            s1 = halfTail(true, d1, b1, j, pairs, xe, xo, xs, s1);
        }
        y0[i0] = s0;
        y1[i1] = s1;
    }

    /**
     * Four BF16 dot products, rows A and B against inputs 0 and 1 (x halves at xs0 and xs1): each weight load
     * and widening serves two inputs and each x load two rows, which matters once the rows sit in cache and the
     * batch is compute-bound. Per dot product exactly the operations of {@link #bf16Pair}. Row A's results go to
     * yA[iA0], yA[iA1], row B's to yB[iB0], yB[iB1].
     */
    private static void bf16Quad(MemorySegment dA, long bA, float[] yA, MemorySegment dB, long bB, float[] yB,
                                 int iA0, int iB0, int iA1, int iB1, int pairs, Scratch s, int xs0, int xs1) {
        float[] xe = s.even;
        float[] xo = s.odd;
        FloatVector z = FloatVector.zero(FS);
        FloatVector eA0 = z, fA0 = z, gA0 = z, hA0 = z, eB0 = z, fB0 = z, gB0 = z, hB0 = z;
        FloatVector eA1 = z, fA1 = z, gA1 = z, hA1 = z, eB1 = z, fB1 = z, gB1 = z, hB1 = z;
        int j = 0;
        for (; j <= pairs - 2 * L; j += 2 * L) {
            long off = (long) j * 4;
            FloatVector xe0 = FloatVector.fromArray(FS, xe, xs0 + j);
            FloatVector xo0 = FloatVector.fromArray(FS, xo, xs0 + j);
            FloatVector xe1 = FloatVector.fromArray(FS, xe, xs1 + j);
            FloatVector xo1 = FloatVector.fromArray(FS, xo, xs1 + j);
            IntVector v = IntVector.fromMemorySegment(IS, dA, bA + off, LE);
            FloatVector lo = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector hi = v.and(0xFFFF0000).reinterpretAsFloats();
            eA0 = lo.fma(xe0, eA0);
            fA0 = hi.fma(xo0, fA0);
            eA1 = lo.fma(xe1, eA1);
            fA1 = hi.fma(xo1, fA1);
            v = IntVector.fromMemorySegment(IS, dB, bB + off, LE);
            lo = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            hi = v.and(0xFFFF0000).reinterpretAsFloats();
            eB0 = lo.fma(xe0, eB0);
            fB0 = hi.fma(xo0, fB0);
            eB1 = lo.fma(xe1, eB1);
            fB1 = hi.fma(xo1, fB1);
            xe0 = FloatVector.fromArray(FS, xe, xs0 + j + L);
            xo0 = FloatVector.fromArray(FS, xo, xs0 + j + L);
            xe1 = FloatVector.fromArray(FS, xe, xs1 + j + L);
            xo1 = FloatVector.fromArray(FS, xo, xs1 + j + L);
            v = IntVector.fromMemorySegment(IS, dA, bA + off + 4L * L, LE);
            lo = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            hi = v.and(0xFFFF0000).reinterpretAsFloats();
            gA0 = lo.fma(xe0, gA0);
            hA0 = hi.fma(xo0, hA0);
            gA1 = lo.fma(xe1, gA1);
            hA1 = hi.fma(xo1, hA1);
            v = IntVector.fromMemorySegment(IS, dB, bB + off + 4L * L, LE);
            lo = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            hi = v.and(0xFFFF0000).reinterpretAsFloats();
            gB0 = lo.fma(xe0, gB0);
            hB0 = hi.fma(xo0, hB0);
            gB1 = lo.fma(xe1, gB1);
            hB1 = hi.fma(xo1, hB1);
        }
        for (; j <= pairs - L; j += L) {
            long off = (long) j * 4;
            FloatVector xe0 = FloatVector.fromArray(FS, xe, xs0 + j);
            FloatVector xo0 = FloatVector.fromArray(FS, xo, xs0 + j);
            FloatVector xe1 = FloatVector.fromArray(FS, xe, xs1 + j);
            FloatVector xo1 = FloatVector.fromArray(FS, xo, xs1 + j);
            IntVector v = IntVector.fromMemorySegment(IS, dA, bA + off, LE);
            FloatVector lo = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector hi = v.and(0xFFFF0000).reinterpretAsFloats();
            eA0 = lo.fma(xe0, eA0);
            fA0 = hi.fma(xo0, fA0);
            eA1 = lo.fma(xe1, eA1);
            fA1 = hi.fma(xo1, fA1);
            v = IntVector.fromMemorySegment(IS, dB, bB + off, LE);
            lo = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            hi = v.and(0xFFFF0000).reinterpretAsFloats();
            eB0 = lo.fma(xe0, eB0);
            fB0 = hi.fma(xo0, fB0);
            eB1 = lo.fma(xe1, eB1);
            fB1 = hi.fma(xo1, fB1);
        }
        // tree sums (Lanes) of the four: A0 in lane 0, B0 in L / 2, A1 in L / 4, B1 in 3L / 4
        FloatVector a0 = eA0.add(fA0).add(gA0.add(hA0));
        FloatVector b0 = eB0.add(fB0).add(gB0.add(hB0));
        FloatVector a1 = eA1.add(fA1).add(gA1.add(hA1));
        FloatVector b1 = eB1.add(fB1).add(gB1.add(hB1));
        FloatVector r0 = a0.blend(b0, Lanes.HALF).add(b0.blend(a0, Lanes.HALF).rearrange(Lanes.XH));
        FloatVector r1 = a1.blend(b1, Lanes.HALF).add(b1.blend(a1, Lanes.HALF).rearrange(Lanes.XH));
        FloatVector sums = r0.blend(r1, Lanes.QUARTER).add(r1.blend(r0, Lanes.QUARTER).rearrange(Lanes.XQ));
        if (L >= 8) {
            sums = sums.add(sums.rearrange(Lanes.X8));
        }
        if (L >= 16) {
            sums = sums.add(sums.rearrange(Lanes.X16));
        }
        if (L >= 32) {
            sums = sums.add(sums.rearrange(Lanes.X32));
        }
        if (L >= 64) {
            sums = sums.add(sums.rearrange(Lanes.X64));
        }
        float sA0 = sums.lane(0);
        float sB0 = sums.lane(L / 2);
        float sA1 = sums.lane(L / 4);
        float sB1 = sums.lane(3 * L / 4);
        if (j < pairs) {
            sA0 = halfTail(true, dA, bA, j, pairs, xe, xo, xs0, sA0);
            sB0 = halfTail(true, dB, bB, j, pairs, xe, xo, xs0, sB0);
            sA1 = halfTail(true, dA, bA, j, pairs, xe, xo, xs1, sA1);
            sB1 = halfTail(true, dB, bB, j, pairs, xe, xo, xs1, sB1);
        }
        yA[iA0] = sA0;
        yB[iB0] = sB0;
        yA[iA1] = sA1;
        yB[iB1] = sB1;
    }

    /**
     * F16 rows, one at a time: y0[i0] and y1[i1]. Widening a half takes about a dozen vector operations, and C2
     * stops inlining the Vector API's methods when too many of them sit in one loop (everything then boxes), so
     * the F16 loop holds one int vector per step: per row, even and odd accumulators e and f over vectors of L
     * pairs, e + f summed in {@link Lanes} tree order, then the scalar tail. The widening is written out (no
     * helper taking vectors, see {@link Lanes#tree}); shifting exponent and mantissa into place and scaling by
     * 2^112 is exact for normal and subnormal halves, and an arithmetic-shift mask gives infinities and NaNs
     * an all-ones exponent instead.
     */
    private static void f16Pair(MemorySegment d0, long b0, float[] y0, int i0, MemorySegment d1, long b1,
                                float[] y1, int i1, int pairs, Scratch s, int xs) {
        y0[i0] = f16Row(d0, b0, pairs, s.even, s.odd, xs);
        y1[i1] = b1 == b0 && d1 == d0 ? y0[i0] : f16Row(d1, b1, pairs, s.even, s.odd, xs);
    }

    private static float f16Row(MemorySegment d, long b, int pairs, float[] xe, float[] xo, int xs) {
        FloatVector e = FloatVector.zero(FS);
        FloatVector f = e;
        int j = 0;
        for (; j <= pairs - L; j += L) {
            IntVector v = IntVector.fromMemorySegment(IS, d, b + (long) j * 4, LE);
            IntVector lo = v.and(0x7FFF);
            IntVector hi = v.lanewise(VectorOperators.LSHR, 16).and(0x7FFF);
            IntVector loShift = lo.lanewise(VectorOperators.LSHL, 13);
            IntVector hiShift = hi.lanewise(VectorOperators.LSHL, 13);
            IntVector loFinite = lo.sub(0x7C00).lanewise(VectorOperators.ASHR, 31);
            IntVector hiFinite = hi.sub(0x7C00).lanewise(VectorOperators.ASHR, 31);
            FloatVector wl = loShift.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts().and(loFinite)
                    .or(loShift.or(0x7F800000).lanewise(VectorOperators.AND_NOT, loFinite))
                    .or(v.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats();
            FloatVector wh = hiShift.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts().and(hiFinite)
                    .or(hiShift.or(0x7F800000).lanewise(VectorOperators.AND_NOT, hiFinite))
                    .or(v.and(0x80000000)).reinterpretAsFloats();
            e = wl.fma(FloatVector.fromArray(FS, xe, xs + j), e);
            f = wh.fma(FloatVector.fromArray(FS, xo, xs + j), f);
        }
        FloatVector t = e.add(f);
        t = t.add(t.rearrange(Lanes.XH));
        if (L >= 4) {
            t = t.add(t.rearrange(Lanes.XQ));
        }
        if (L >= 8) {
            t = t.add(t.rearrange(Lanes.X8));
        }
        if (L >= 16) {
            t = t.add(t.rearrange(Lanes.X16));
        }
        if (L >= 32) {
            t = t.add(t.rearrange(Lanes.X32));
        }
        if (L >= 64) {
            t = t.add(t.rearrange(Lanes.X64));
        }
        float acc = t.lane(0);
        return j < pairs ? halfTail(false, d, b, j, pairs, xe, xo, xs, acc) : acc;
    }

    /** Adds the element pairs [j, pairs) of the row at byte b to acc, one pair at a time. */
    private static float halfTail(boolean bf, MemorySegment d, long b, int j, int pairs, float[] xe, float[] xo,
                                  int xs, float acc) {
        DType t = bf ? DType.BF16 : DType.F16;
        long e = b / 2;
        for (; j < pairs; j++) {
            acc += FloatCodec.get(d, t, e + 2L * j) * xe[xs + j] + FloatCodec.get(d, t, e + 2L * j + 1) * xo[xs + j];
        }
        return acc;
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
     * The choice is made with an arithmetic-shift mask rather than a vector mask and blend: fewer nodes for C2,
     * which otherwise stopped inlining inside the F16 loop.
     */
    static FloatVector f16(IntVector h) {
        IntVector em = h.and(0x7FFF);
        IntVector shifted = em.lanewise(VectorOperators.LSHL, 13);
        IntVector finite = shifted.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts();
        IntVector isFinite = em.sub(0x7C00).lanewise(VectorOperators.ASHR, 31);
        IntVector special = shifted.or(0x7F800000).lanewise(VectorOperators.AND_NOT, isFinite);
        IntVector sign = h.and(0x8000).lanewise(VectorOperators.LSHL, 16);
        return finite.and(isFinite).or(special).or(sign).reinterpretAsFloats();
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
