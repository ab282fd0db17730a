package io.strata.kernels.cpu;

import io.strata.core.weights.TensorView;

/**
 * Any row kernel with large matvecs split by output rows over a {@link WorkerTeam}. Chunk boundaries are
 * multiples of 64 rows (column-major kernels compute outputs in vector blocks), so every row is computed by
 * exactly the code it would get single-threaded: results do not depend on the number of threads. Weights in a
 * thread-confined segment are computed on the calling thread. The loop bodies are per calling thread and reused,
 * so a call allocates nothing.
 */
final class ParallelMatVec implements MatVec {
    /** Below this many weight elements (times inputs, for a batch) a split costs more than it saves. */
    static final long MIN_ELEMENTS = 1L << 18;
    static final int ALIGN = 64;
    /** A thread that owns nothing: a segment it may access is not confined to its creator. */
    private static final Thread PROBE = new Thread(() -> { });
    private final MatVec inner;
    private final WorkerTeam team;
    private final ThreadLocal<Body> bodies = ThreadLocal.withInitial(Body::new);
    private final ThreadLocal<GroupBody> groupBodies = ThreadLocal.withInitial(GroupBody::new);

    ParallelMatVec(MatVec inner, WorkerTeam team) {
        this.inner = inner;
        this.team = team;
    }

    /** True when a loop over w's rows is worth handing to a team: big enough and readable by other threads. */
    static boolean worthSplitting(TensorView w, int rows, int inputs) {
        return (long) rows * w.cols() * inputs >= MIN_ELEMENTS && rows >= 2 * ALIGN && w.data().isAccessibleBy(PROBE);
    }

    @Override
    public void apply(TensorView w, float[] x, int xOff, float[] y, int yOff, int rowFrom, int rowTo) {
        if (team.threads() <= 1 || !worthSplitting(w, rowTo - rowFrom, 1)) {
            inner.apply(w, x, xOff, y, yOff, rowFrom, rowTo);
            return;
        }
        Body b = bodies.get();
        b.call.set(w, null, x, xOff, 0, 1, y, yOff, 0, null, 0, rowFrom, rowTo);
        run(b, rowFrom, rowTo);
    }

    @Override
    public void applyGateUp(TensorView w1, TensorView w3, float[] x, int xOff, float[] gate, int gOff, float[] up,
                            int uOff, int rowFrom, int rowTo) {
        if (team.threads() <= 1 || !worthSplitting(w1, rowTo - rowFrom, 2) || !w3.data().isAccessibleBy(PROBE)) {
            inner.applyGateUp(w1, w3, x, xOff, gate, gOff, up, uOff, rowFrom, rowTo);
            return;
        }
        Body b = bodies.get();
        b.call.set(w1, w3, x, xOff, 0, 1, gate, gOff, 0, up, uOff, rowFrom, rowTo);
        run(b, rowFrom, rowTo);
    }

    @Override
    public void applyGateUpBatch(TensorView w1, TensorView w3, float[] x, int xOff, int xStride, int count,
                                 float[] gate, float[] up, int yOff, int yStride, int rowFrom, int rowTo) {
        if (team.threads() <= 1 || !worthSplitting(w1, rowTo - rowFrom, 2 * count)
                || !w3.data().isAccessibleBy(PROBE)) {
            inner.applyGateUpBatch(w1, w3, x, xOff, xStride, count, gate, up, yOff, yStride, rowFrom, rowTo);
            return;
        }
        Body b = bodies.get();
        b.call.set(w1, w3, x, xOff, xStride, count, gate, yOff, yStride, up, yOff, rowFrom, rowTo);
        run(b, rowFrom, rowTo);
    }

    @Override
    public void applyBatch(TensorView w, float[] x, int xOff, int xStride, int count, float[] y, int yOff,
                           int yStride, int rowFrom, int rowTo) {
        if (team.threads() <= 1 || !worthSplitting(w, rowTo - rowFrom, count)) {
            inner.applyBatch(w, x, xOff, xStride, count, y, yOff, yStride, rowFrom, rowTo);
            return;
        }
        Body b = bodies.get();
        b.call.set(w, null, x, xOff, xStride, count, y, yOff, yStride, null, 0, rowFrom, rowTo);
        run(b, rowFrom, rowTo);
    }

    /**
     * The group as one loop over a row space in which entry i's rows start at V_i, each entry's rows rounded up to
     * {@link #ALIGN} (so a piece's cuts fall within an entry on the multiples of ALIGN from its first row, as alone,
     * and the padding rows are skipped). Below the split size, or with a weight other threads may not read, the
     * entries run one by one (each still split when it is big enough alone).
     */
    @Override
    public void applyGroup(MatVecGroup group) {
        int n = group.size();
        if (team.threads() <= 1 || n < 2) {
            group.runAll(this);
            return;
        }
        long elements = 0;
        for (int i = 0; i < n; i++) {
            TensorView w = group.weight(i);
            TensorView up = group.upWeight(i);
            if (!w.data().isAccessibleBy(PROBE) || (up != null && !up.data().isAccessibleBy(PROBE))) {
                group.runAll(this);
                return;
            }
            elements += (long) group.rows(i) * w.cols() * group.count(i) * (up != null ? 2 : 1);
        }
        if (elements < MIN_ELEMENTS) {
            group.runAll(inner);
            return;
        }
        GroupBody b = groupBodies.get();
        int total = b.set(group);
        try {
            team.forRange(0, total, ALIGN, b);
        } finally {
            b.clear();
        }
    }

    private void run(Body b, int rowFrom, int rowTo) {
        try {
            team.forRange(rowFrom, rowTo, ALIGN, b);
        } finally {
            b.call.clear();
        }
    }

    /** One call's loop: its operands, run on the inner kernel over each piece. */
    private final class Body implements WorkerTeam.RangeTask {
        final MatVecGroup.Entry call = new MatVecGroup.Entry();

        @Override
        public void run(int from, int to) {
            call.run(inner, from, to);
        }
    }

    /** A group's loop: maps a piece of the padded row space onto the entries it overlaps. */
    private final class GroupBody implements WorkerTeam.RangeTask {
        private MatVecGroup group;
        /** starts[i]: where entry i's rows begin in the loop's row space; starts[size] is its end. */
        private int[] starts = new int[8];

        int set(MatVecGroup g) {
            int n = g.size();
            if (starts.length < n + 1) {
                starts = new int[Math.max(n + 1, 2 * starts.length)];
            }
            long v = 0;
            for (int i = 0; i < n; i++) {
                starts[i] = Math.toIntExact(v);
                v += (g.rows(i) + ALIGN - 1) / ALIGN * (long) ALIGN;
            }
            starts[n] = Math.toIntExact(v);
            this.group = g;
            return starts[n];
        }

        void clear() {
            group = null;
        }

        @Override
        public void run(int from, int to) {
            MatVecGroup g = group;
            int n = g.size();
            int i = 0;
            while (starts[i + 1] <= from) {
                i++;
            }
            for (; i < n && starts[i] < to; i++) {
                int a = Math.max(from, starts[i]) - starts[i];
                int b = Math.min(to - starts[i], g.rows(i));
                if (a < b) {
                    g.run(inner, i, g.rowFrom(i) + a, g.rowFrom(i) + b);
                }
            }
        }
    }
}
