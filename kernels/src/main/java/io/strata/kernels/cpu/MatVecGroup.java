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
    private int size;
    private TensorView[] w = new TensorView[4];
    private TensorView[] w3 = new TensorView[4];
    private float[][] x = new float[4][];
    private int[] xOff = new int[4];
    private int[] xStride = new int[4];
    private int[] count = new int[4];
    private float[][] y = new float[4][];
    private float[][] up = new float[4][];
    private int[] yOff = new int[4];
    private int[] yStride = new int[4];
    private int[] rowFrom = new int[4];
    private int[] rowTo = new int[4];

    /** Empties the group (and drops its references to weights and arrays). */
    public MatVecGroup clear() {
        Arrays.fill(w, 0, size, null);
        Arrays.fill(w3, 0, size, null);
        Arrays.fill(x, 0, size, null);
        Arrays.fill(y, 0, size, null);
        Arrays.fill(up, 0, size, null);
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
        if (size == this.w.length) {
            int n = 2 * size;
            this.w = Arrays.copyOf(this.w, n);
            this.w3 = Arrays.copyOf(this.w3, n);
            this.x = Arrays.copyOf(this.x, n);
            this.xOff = Arrays.copyOf(this.xOff, n);
            this.xStride = Arrays.copyOf(this.xStride, n);
            this.count = Arrays.copyOf(this.count, n);
            this.y = Arrays.copyOf(this.y, n);
            this.up = Arrays.copyOf(this.up, n);
            this.yOff = Arrays.copyOf(this.yOff, n);
            this.yStride = Arrays.copyOf(this.yStride, n);
            this.rowFrom = Arrays.copyOf(this.rowFrom, n);
            this.rowTo = Arrays.copyOf(this.rowTo, n);
        }
        int i = size++;
        this.w[i] = w;
        this.w3[i] = w3;
        this.x[i] = x;
        this.xOff[i] = xOff;
        this.xStride[i] = xStride;
        this.count[i] = count;
        this.y[i] = y;
        this.up[i] = up;
        this.yOff[i] = yOff;
        this.yStride[i] = yStride;
        this.rowFrom[i] = rowFrom;
        this.rowTo[i] = rowTo;
        return this;
    }

    /** Entries added since the last {@link #clear}. */
    public int size() {
        return size;
    }

    /** Entry i's weight (its gate weight for a gate/up entry). */
    public TensorView weight(int i) {
        return w[i];
    }

    /** Entry i's up weight, or null for a plain entry. */
    public TensorView upWeight(int i) {
        return w3[i];
    }

    /** Entry i's first output row. */
    public int rowFrom(int i) {
        return rowFrom[i];
    }

    /** Entry i's output rows. */
    public int rows(int i) {
        return rowTo[i] - rowFrom[i];
    }

    /** Entry i's inputs. */
    public int count(int i) {
        return count[i];
    }

    /** Runs entry i's rows [from, to) (within its own range) on {@code kernel}, in the call form it would get alone. */
    public void run(MatVec kernel, int i, int from, int to) {
        if (w3[i] != null && count[i] > 1) {
            kernel.applyGateUpBatch(w[i], w3[i], x[i], xOff[i], xStride[i], count[i], y[i], up[i], yOff[i],
                    yStride[i], from, to);
        } else if (w3[i] != null) {
            kernel.applyGateUp(w[i], w3[i], x[i], xOff[i], y[i], yOff[i], up[i], yOff[i], from, to);
        } else if (count[i] > 1) {
            kernel.applyBatch(w[i], x[i], xOff[i], xStride[i], count[i], y[i], yOff[i], yStride[i], from, to);
        } else {
            kernel.apply(w[i], x[i], xOff[i], y[i], yOff[i], from, to);
        }
    }

    /** Runs every entry on {@code kernel}, one after the other. */
    public void runAll(MatVec kernel) {
        for (int i = 0; i < size; i++) {
            run(kernel, i, rowFrom[i], rowTo[i]);
        }
    }
}
