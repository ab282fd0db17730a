package io.strata.kernels.cpu;

import io.strata.core.model.DType;
import io.strata.core.weights.TensorView;

/**
 * y = W x for a linear weight W of logical shape [out, in] (a {@link TensorView} in either layout, F32/F16/BF16).
 * Offsets let one call serve a tensor-parallel slice: a slice of the output dimension writes its part of y, a
 * slice of the input dimension reads its part of x (and yields a partial sum the caller adds up).
 *
 * <p>An implementation is a <em>row kernel</em>: it computes any range of output rows on the calling thread, and
 * each row's value depends only on W's row and x, never on the range it was computed in. That is what lets a
 * {@link WorkerTeam} split rows over threads (and a batch over row blocks) without changing a bit; a kernel for a
 * new element type implements {@link #apply(TensorView, float[], int, float[], int, int, int)} and inherits the
 * paired and batched forms, which it may override with faster code that keeps each row's float operations.
 */
public interface MatVec {
    /** y[yOff + o] = sum_i W[o][i] * x[xOff + i] for o in [0, out), i in [0, in). */
    default void apply(TensorView w, float[] x, int xOff, float[] y, int yOff) {
        apply(w, x, xOff, y, yOff, 0, Math.toIntExact(w.rows()));
    }

    /** As {@link #apply(TensorView, float[], int, float[], int)} but only output rows [rowFrom, rowTo). */
    void apply(TensorView w, float[] x, int xOff, float[] y, int yOff, int rowFrom, int rowTo);

    default void apply(TensorView w, float[] x, float[] y) {
        apply(w, x, 0, y, 0);
    }

    /**
     * The first half of a SwiGLU MLP over rows [rowFrom, rowTo): gate[gOff + o] = silu((W1 x)[o]) * (W3 x)[o],
     * with (W3 x)[o] left in up[uOff + o]. A kernel may read x once for both weights.
     */
    default void applyGateUp(TensorView w1, TensorView w3, float[] x, int xOff, float[] gate, int gOff, float[] up,
                             int uOff, int rowFrom, int rowTo) {
        apply(w1, x, xOff, gate, gOff, rowFrom, rowTo);
        apply(w3, x, xOff, up, uOff, rowFrom, rowTo);
        SwiGlu.gateInPlace(gate, gOff, up, uOff, rowFrom, rowTo);
    }

    /** {@link #applyGateUp} for {@code count} inputs, with the strides of {@link #applyBatch} (gate and up share one). */
    default void applyGateUpBatch(TensorView w1, TensorView w3, float[] x, int xOff, int xStride, int count,
                                  float[] gate, float[] up, int yOff, int yStride, int rowFrom, int rowTo) {
        applyBatch(w1, x, xOff, xStride, count, gate, yOff, yStride, rowFrom, rowTo);
        applyBatch(w3, x, xOff, xStride, count, up, yOff, yStride, rowFrom, rowTo);
        for (int t = 0; t < count; t++) {
            SwiGlu.gateInPlace(gate, yOff + t * yStride, up, yOff + t * yStride, rowFrom, rowTo);
        }
    }

    /**
     * The same weight applied to {@code count} inputs: for token t, y[yOff + t * yStride + o] = (W x_t)[o] with
     * x_t = x[xOff + t * xStride ..], for o in [rowFrom, rowTo). Rows are taken in blocks small enough to stay in
     * cache while every input passes over them, so W is read from memory once per call, and each value is
     * bit-identical to {@link #apply(TensorView, float[], int, float[], int, int, int)} on that input.
     */
    default void applyBatch(TensorView w, float[] x, int xOff, int xStride, int count, float[] y, int yOff,
                            int yStride, int rowFrom, int rowTo) {
        int block = blockRows(w);
        for (int r = rowFrom; r < rowTo; r += block) {
            int end = Math.min(rowTo, r + block);
            for (int t = 0; t < count; t++) {
                apply(w, x, xOff + t * xStride, y, yOff + t * yStride, r, end);
            }
        }
    }

    /**
     * Runs every entry of {@code group} (matvecs that do not depend on each other): the bits of running them one
     * after the other, which is what this default does. A kernel that splits loops over threads runs the whole
     * group as one loop, so that its threads meet once per group instead of once per matvec.
     */
    default void applyGroup(MatVecGroup group) {
        group.runAll(this);
    }

    /**
     * Rows of w that fit a 32 KiB block (at least 2; 64 for column-major weights, whose kernels compute outputs
     * in vector blocks): what {@link #applyBatch} keeps in cache at once.
     */
    static int blockRows(TensorView w) {
        if (w.layout() != io.strata.core.model.Layout.ROW) {
            return 64;
        }
        DType t = w.dtype();
        long blocks = (w.cols() + t.blockSize() - 1) / t.blockSize(); // a row padded to whole blocks
        long rowBytes = Math.max(1, blocks * t.blockBytes());
        return (int) Math.max(2, ((32L << 10) / rowBytes) & ~1L);
    }

    /** The Vector API implementation (falls back to scalar code where a shape does not suit it). */
    static MatVec vector() {
        return VectorMatVec.INSTANCE;
    }

    /**
     * The vector kernel with large matvecs split by output rows over the shared {@link WorkerTeam} of
     * {@code threads} threads (results identical to the single-threaded kernel).
     */
    static MatVec vector(int threads) {
        return parallel(VectorMatVec.INSTANCE, threads);
    }

    /**
     * The row kernel {@code inner} with large matvecs (and batches) split by output rows over the shared
     * {@link WorkerTeam} of {@code threads} threads; results are those of {@code inner} alone.
     */
    static MatVec parallel(MatVec inner, int threads) {
        return threads <= 1 ? inner : new ParallelMatVec(inner, WorkerTeam.shared(threads));
    }

    /** Plain loops: the reference the vector path is checked against. */
    static MatVec scalar() {
        return ScalarMatVec.INSTANCE;
    }

    /** Checked on every call, so it reads the shape without copying it (TensorView.shape() clones). */
    static void checkShape(TensorView w, float[] x, int xOff, float[] y, int yOff, int rowFrom, int rowTo) {
        long[] s = {w.rows(), w.cols()};
        if (s[0] * s[1] != w.elementCount() || s[1] < 1) {
            throw new IllegalArgumentException(w.name() + ": matvec needs a 2-D weight, shape is "
                    + java.util.Arrays.toString(w.shape()));
        }
        if (xOff < 0 || xOff + s[1] > x.length) {
            throw new IllegalArgumentException(w.name() + ": input needs " + s[1] + " floats at " + xOff
                    + ", vector has " + x.length);
        }
        if (rowFrom < 0 || rowTo > s[0] || rowFrom > rowTo || yOff < 0 || yOff + rowTo > y.length) {
            throw new IllegalArgumentException(w.name() + ": rows [" + rowFrom + ", " + rowTo + ") at output offset "
                    + yOff + " do not fit " + s[0] + " rows / output of " + y.length);
        }
        long need = w.dtype().bytesFor(s);
        if (w.data().byteSize() < need) {
            throw new IllegalArgumentException(w.name() + ": data has " + w.data().byteSize() + " bytes, shape "
                    + s[0] + "x" + s[1] + " " + w.dtype() + " needs " + need);
        }
    }
}
