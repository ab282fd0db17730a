package io.strata.kernels.cpu;

import io.strata.core.weights.TensorView;

/**
 * y = W x for a linear weight W of logical shape [out, in] (a {@link TensorView} in either layout, F32/F16/BF16).
 * Offsets let one call serve a tensor-parallel slice: a slice of the output dimension writes its part of y, a
 * slice of the input dimension reads its part of x (and yields a partial sum the caller adds up).
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

    /** The Vector API implementation (falls back to scalar code where a shape does not suit it). */
    static MatVec vector() {
        return VectorMatVec.INSTANCE;
    }

    /**
     * The vector kernel with large matvecs split by output rows over up to {@code threads} workers of the
     * common fork-join pool (results identical to the single-threaded kernel).
     */
    static MatVec vector(int threads) {
        return threads <= 1 ? VectorMatVec.INSTANCE : new ParallelMatVec(VectorMatVec.INSTANCE, threads);
    }

    /** Plain loops: the reference the vector path is checked against. */
    static MatVec scalar() {
        return ScalarMatVec.INSTANCE;
    }

    static void checkShape(TensorView w, float[] x, int xOff, float[] y, int yOff, int rowFrom, int rowTo) {
        long[] s = w.shape();
        if (s.length != 2) {
            throw new IllegalArgumentException(w.name() + ": matvec needs a 2-D weight, shape has rank " + s.length);
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
