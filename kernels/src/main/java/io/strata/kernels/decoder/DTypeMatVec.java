package io.strata.kernels.decoder;

import io.strata.core.weights.TensorView;
import io.strata.kernels.cpu.MatVec;
import io.strata.kernels.cpu.MatVecGroup;

/**
 * The decoder's matvec: each call goes to the kernel for its weight's element type, block-quantised (ggml)
 * weights to one kernel and float weights to the other, and the paired and batched forms
 * ({@link MatVec#applyGateUp}, {@link MatVec#applyBatch}, {@link MatVec#applyGateUpBatch}) are passed through
 * to that kernel. A lambda over {@code apply} alone had lost them: every batch of a prompt ran as one matvec per
 * input (the interface's default), and the kernels' own batched code was never reached. A gate/up pair of two
 * different kinds falls back to the defaults, which dispatch each weight.
 */
final class DTypeMatVec implements MatVec {
    private final MatVec plain;
    private final MatVec quantised;

    DTypeMatVec(MatVec plain, MatVec quantised) {
        this.plain = plain;
        this.quantised = quantised;
    }

    private MatVec of(TensorView w) {
        return w.dtype().isQuantized() ? quantised : plain;
    }

    @Override
    public void apply(TensorView w, float[] x, int xOff, float[] y, int yOff, int rowFrom, int rowTo) {
        of(w).apply(w, x, xOff, y, yOff, rowFrom, rowTo);
    }

    @Override
    public void applyGateUp(TensorView w1, TensorView w3, float[] x, int xOff, float[] gate, int gOff, float[] up,
                            int uOff, int rowFrom, int rowTo) {
        if (of(w1) != of(w3)) {
            MatVec.super.applyGateUp(w1, w3, x, xOff, gate, gOff, up, uOff, rowFrom, rowTo);
            return;
        }
        of(w1).applyGateUp(w1, w3, x, xOff, gate, gOff, up, uOff, rowFrom, rowTo);
    }

    @Override
    public void applyGateUpBatch(TensorView w1, TensorView w3, float[] x, int xOff, int xStride, int count,
                                 float[] gate, float[] up, int yOff, int yStride, int rowFrom, int rowTo) {
        if (of(w1) != of(w3)) {
            MatVec.super.applyGateUpBatch(w1, w3, x, xOff, xStride, count, gate, up, yOff, yStride, rowFrom, rowTo);
            return;
        }
        of(w1).applyGateUpBatch(w1, w3, x, xOff, xStride, count, gate, up, yOff, yStride, rowFrom, rowTo);
    }

    /** The whole group to one kernel when every weight in it goes to that kernel; else entry by entry. */
    @Override
    public void applyGroup(MatVecGroup group) {
        int n = group.size();
        if (n == 0) {
            return;
        }
        MatVec k = of(group.weight(0));
        for (int i = 0; i < n; i++) {
            TensorView up = group.upWeight(i);
            if (of(group.weight(i)) != k || (up != null && of(up) != k)) {
                MatVec.super.applyGroup(group);
                return;
            }
        }
        k.applyGroup(group);
    }

    @Override
    public void applyBatch(TensorView w, float[] x, int xOff, int xStride, int count, float[] y, int yOff,
                           int yStride, int rowFrom, int rowTo) {
        of(w).applyBatch(w, x, xOff, xStride, count, y, yOff, yStride, rowFrom, rowTo);
    }
}
