package io.strata.kernels.cpu;

import io.strata.core.weights.TensorView;
import java.util.concurrent.RecursiveAction;

/**
 * Splits a large matvec's output rows into chunks run on the common fork-join pool. Chunk boundaries are
 * multiples of 64 rows, so every row is computed by exactly the code it would get single-threaded: results do
 * not depend on the number of threads. Weights in a thread-confined segment are computed on the calling thread.
 */
final class ParallelMatVec implements MatVec {
    /** Below this many weight elements a split costs more than it saves. */
    static final long MIN_ELEMENTS = 1L << 18;
    private static final int ALIGN = 64;
    /** A thread that owns nothing: a segment it may access is not confined to its creator. */
    private static final Thread PROBE = new Thread(() -> { });
    private final MatVec inner;
    private final int parts;

    ParallelMatVec(MatVec inner, int parts) {
        this.inner = inner;
        this.parts = parts;
    }

    @Override
    public void apply(TensorView w, float[] x, int xOff, float[] y, int yOff, int rowFrom, int rowTo) {
        int n = rowTo - rowFrom;
        if (parts <= 1 || (long) n * w.cols() < MIN_ELEMENTS || n < 2 * ALIGN
                || !w.data().isAccessibleBy(PROBE)) {
            inner.apply(w, x, xOff, y, yOff, rowFrom, rowTo);
            return;
        }
        int chunk = ((n + parts - 1) / parts + ALIGN - 1) / ALIGN * ALIGN;
        int count = (n + chunk - 1) / chunk;
        RecursiveAction[] tasks = new RecursiveAction[count];
        for (int c = 0; c < count; c++) {
            int from = rowFrom + c * chunk;
            int to = Math.min(rowTo, from + chunk);
            tasks[c] = new RecursiveAction() {
                @Override
                protected void compute() {
                    inner.apply(w, x, xOff, y, yOff, from, to);
                }
            };
        }
        RecursiveAction.invokeAll(tasks);
    }
}
