package io.strata.kernels.cpu;

import io.strata.core.weights.TensorView;
import java.util.Arrays;

/**
 * Matvecs that do not depend on each other, handed to {@link MatVec#applyGroup} together so that a
 * {@link WorkerTeam} runs them as one parallel loop: the q, k and v projections of a layer (one input), or the
 * gate/up (then the down) projections of every expert a decode step routes to. Why: two-thread decode ran 97
 * loops a token, and every loop costs its opening (the worker's wake-up) and its tail (one thread waiting for the
 * other's last piece); in a Q4_K_M profile the caller waited 5 % of its time at loop ends and the worker 13 %.
 * Each entry's rows are computed by the same kernel call forms as alone ({@link MatVec#apply},
 * {@link MatVec#applyBatch}, {@link MatVec#applyGateUp}, {@link MatVec#applyGateUpBatch}), so a group gives
 * the bits of its entries run one after the other.
 *
 * <p>Reusable: {@link #clear} and add again; grows to the widest group and then allocates nothing. Not
 * thread-safe (one per calling thread); the arrays it names must stay untouched until the call returns.
 */
public final class MatVecGroup {
    private Entry[] entries = new Entry[0];
    private int size;

    /**
     * One matvec's operands and the call form they take: a SwiGLU gate/up when w3 is set (y = gate, up = up, at
     * yOff and upOff), a batch when count > 1. Also what {@link ParallelMatVec} keeps for a single call's loop.
     */
    static final class Entry {
        private TensorView w;
        private TensorView w3;
        private float[] x;
        private int xOff;
        private int xStride;
        private int count;
        private float[] y;
        private int yOff;
        private int yStride;
        private float[] up;
        private int upOff;
        private int rowFrom;
        private int rowTo;

        void set(TensorView w, TensorView w3, float[] x, int xOff, int xStride, int count, float[] y, int yOff,
                 int yStride, float[] up, int upOff, int rowFrom, int rowTo) {
            this.w = w;
            this.w3 = w3;
            this.x = x;
            this.xOff = xOff;
            this.xStride = xStride;
            this.count = count;
            this.y = y;
            this.yOff = yOff;
            this.yStride = yStride;
            this.up = up;
            this.upOff = upOff;
            this.rowFrom = rowFrom;
            this.rowTo = rowTo;
        }

        /** Drops the references to weights and arrays. */
        void clear() {
            set(null, null, null, 0, 0, 0, null, 0, 0, null, 0, 0, 0);
        }

        /** Rows [from, to) on {@code kernel}, in the call form the operands were given for. */
        void run(MatVec kernel, int from, int to) {
            if (w3 != null && count > 1) {
                kernel.applyGateUpBatch(w, w3, x, xOff, xStride, count, y, up, yOff, yStride, from, to);
            } else if (w3 != null) {
                kernel.applyGateUp(w, w3, x, xOff, y, yOff, up, upOff, from, to);
            } else if (count > 1) {
                kernel.applyBatch(w, x, xOff, xStride, count, y, yOff, yStride, from, to);
            } else {
                kernel.apply(w, x, xOff, y, yOff, from, to);
            }
        }
    }

    /** Empties the group (and drops its references to weights and arrays). */
    public MatVecGroup clear() {
        for (int i = 0; i < size; i++) {
            entries[i].clear();
        }
        size = 0;
        return this;
    }

    /**
     * Adds {@link MatVec#applyBatch}{@code (w, x, xOff, xStride, count, y, yOff, yStride, rowFrom, rowTo)}
     * ({@link MatVec#apply} when count is 1).
     */
    public MatVecGroup add(TensorView w, float[] x, int xOff, int xStride, int count, float[] y, int yOff,
                           int yStride, int rowFrom, int rowTo) {
        return put(w, null, x, xOff, xStride, count, y, null, yOff, yStride, rowFrom, rowTo);
    }

    /**
     * Adds {@link MatVec#applyGateUpBatch}{@code (w1, w3, x, xOff, xStride, count, gate, up, yOff, yStride,
     * rowFrom, rowTo)} ({@link MatVec#applyGateUp} with gate and up at yOff when count is 1).
     */
    public MatVecGroup addGateUp(TensorView w1, TensorView w3, float[] x, int xOff, int xStride, int count,
                                 float[] gate, float[] up, int yOff, int yStride, int rowFrom, int rowTo) {
        return put(w1, w3, x, xOff, xStride, count, gate, up, yOff, yStride, rowFrom, rowTo);
    }

    private MatVecGroup put(TensorView w, TensorView w3, float[] x, int xOff, int xStride, int count, float[] y,
                            float[] up, int yOff, int yStride, int rowFrom, int rowTo) {
        if (count < 1 || rowFrom < 0 || rowFrom > rowTo) {
            throw new IllegalArgumentException(w.name() + ": group entry of " + count + " inputs over rows ["
                    + rowFrom + ", " + rowTo + ")");
        }
        if (size == entries.length) {
            entries = Arrays.copyOf(entries, Math.max(4, 2 * size));
            for (int i = size; i < entries.length; i++) {
                entries[i] = new Entry();
            }
        }
        entries[size++].set(w, w3, x, xOff, xStride, count, y, yOff, yStride, up, yOff, rowFrom, rowTo);
        return this;
    }

    /** Entries added since the last {@link #clear}. */
    public int size() {
        return size;
    }

    /** Entry i's weight (its gate weight for a gate/up entry). */
    public TensorView weight(int i) {
        return entries[i].w;
    }

    /** Entry i's up weight, or null for a plain entry. */
    public TensorView upWeight(int i) {
        return entries[i].w3;
    }

    /** Entry i's first output row. */
    public int rowFrom(int i) {
        return entries[i].rowFrom;
    }

    /** Entry i's output rows. */
    public int rows(int i) {
        return entries[i].rowTo - entries[i].rowFrom;
    }

    /** Entry i's inputs. */
    public int count(int i) {
        return entries[i].count;
    }

    /** Runs entry i's rows [from, to) (within its own range) on {@code kernel}, in the call form it would get alone. */
    public void run(MatVec kernel, int i, int from, int to) {
        entries[i].run(kernel, from, to);
    }

    /** Runs every entry on {@code kernel}, one after the other. */
    public void runAll(MatVec kernel) {
        for (int i = 0; i < size; i++) {
            entries[i].run(kernel, entries[i].rowFrom, entries[i].rowTo);
        }
    }
}
