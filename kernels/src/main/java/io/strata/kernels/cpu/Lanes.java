package io.strata.kernels.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Deterministic horizontal sums. {@code reduceLanes(ADD)} may add lanes in a different order once C2 compiles
 * it than in the interpreter, so the same input could give different bits early and late in a run. Two fixed
 * orders are used instead, each the same in every execution mode:
 * <ul>
 *   <li>{@link #sum}: lanes in index order (small kernels: norms, attention);</li>
 *   <li>the <em>tree</em> order of the matvec kernels: lane i is first added to lane i ^ (L/2), then i ^ (L/4),
 *   ..., i ^ 1, and lane 0 holds the sum. {@link #tree2} and {@link #tree4} reduce two or four vectors at once
 *   (blends put them in separate lanes, so one shuffle per level serves all of them) with exactly the bits of
 *   {@link #tree} for each: a row's dot product does not depend on which rows it was reduced with. The serial
 *   index-order sum cost a quarter of a compute-bound batch's time; the tree costs a few operations per row.</li>
 * </ul>
 */
final class Lanes {
    static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    static final int L = FS.length();
    /** XOR-by-(L >> k) lane shuffles, k = 1 .. log2(L). */
    private static final VectorShuffle<Float>[] XOR = shuffles();
    private static final VectorMask<Float> HALF = VectorMask.fromLong(FS, laneBits(L / 2));
    private static final VectorMask<Float> QUARTER = VectorMask.fromLong(FS, laneBits(Math.max(1, L / 4)));

    private Lanes() {
    }

    @SuppressWarnings("unchecked")
    private static VectorShuffle<Float>[] shuffles() {
        int levels = Integer.numberOfTrailingZeros(L);
        VectorShuffle<Float>[] s = new VectorShuffle[levels];
        for (int k = 0; k < levels; k++) {
            int bit = L >> (k + 1);
            s[k] = VectorShuffle.fromOp(FS, i -> i ^ bit);
        }
        return s;
    }

    /** Mask bits of the lanes whose index has {@code bit} set. */
    private static long laneBits(int bit) {
        long m = 0;
        for (int i = 0; i < L; i++) {
            if ((i & bit) != 0) {
                m |= 1L << i;
            }
        }
        return m;
    }

    /** Sum of v's lanes in index order; {@code scratch} holds at least L floats. */
    static float sum(FloatVector v, float[] scratch) {
        v.intoArray(scratch, 0);
        float s = 0f;
        for (int i = 0; i < L; i++) {
            s += scratch[i];
        }
        return s;
    }

    /** Tree-order sum of v's lanes. */
    static float tree(FloatVector v) {
        return levels(v, 0).lane(0);
    }

    /** Tree sums of a and b: lane 0 holds a's, lane L/2 b's. */
    static FloatVector tree2(FloatVector a, FloatVector b) {
        return levels(merge(a, b, HALF, XOR[0]), 1);
    }

    /** Tree sums of a, b, c, d: a's in lane 0, b's in lane L/2, c's in lane L/4, d's in lane 3L/4 (L >= 4). */
    static FloatVector tree4(FloatVector a, FloatVector b, FloatVector c, FloatVector d) {
        FloatVector ab = merge(a, b, HALF, XOR[0]);
        FloatVector cd = merge(c, d, HALF, XOR[0]);
        return levels(merge(ab, cd, QUARTER, XOR[1]), 2);
    }

    /** Lanes without {@code upper}'s bit: x_i + x_{i^bit}; lanes with it: y_i + y_{i^bit}. */
    private static FloatVector merge(FloatVector x, FloatVector y, VectorMask<Float> upper,
                                     VectorShuffle<Float> swap) {
        return x.blend(y, upper).add(y.blend(x, upper).rearrange(swap));
    }

    private static FloatVector levels(FloatVector v, int from) {
        for (int k = from; k < XOR.length; k++) {
            v = v.add(v.rearrange(XOR[k]));
        }
        return v;
    }
}
