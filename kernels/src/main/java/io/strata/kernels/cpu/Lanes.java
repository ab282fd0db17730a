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
 *   ..., i ^ 1, and lane 0 holds the sum ({@link #tree}). The kernels reduce two or four vectors at once:
 *   blending x and y on the lanes with bit L/2 set and adding the blend of y and x shuffled by XOR L/2 leaves
 *   x's first level in the lower half and y's in the upper; four vectors repeat that on L/4; one shuffle per
 *   remaining level then serves all of them, with exactly the bits of {@link #tree} for each, so a row's dot
 *   product does not depend on which rows it was reduced with. The serial index-order sum cost a quarter of a
 *   compute-bound batch's time; the tree costs a few operations per row.</li>
 * </ul>
 */
public final class Lanes {
    static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    static final int L = FS.length();
    // The shuffles and masks of the tree order, as constants: C2 intrinsifies a rearrange by a constant shuffle.
    /** Lane i to i ^ (L / 2), i ^ (L / 4), ... i ^ (L / 64) (identity where L is smaller). */
    static final VectorShuffle<Float> XH = xor(L / 2);
    static final VectorShuffle<Float> XQ = xor(L / 4);
    static final VectorShuffle<Float> X8 = xor(L / 8);
    static final VectorShuffle<Float> X16 = xor(L / 16);
    static final VectorShuffle<Float> X32 = xor(L / 32);
    static final VectorShuffle<Float> X64 = xor(L / 64);
    /** Lanes whose index has bit L / 2 (L / 4) set. */
    static final VectorMask<Float> HALF = VectorMask.fromLong(FS, laneBits(L / 2));
    static final VectorMask<Float> QUARTER = VectorMask.fromLong(FS, laneBits(Math.max(1, L / 4)));

    private Lanes() {
    }

    private static VectorShuffle<Float> xor(int bit) {
        return VectorShuffle.fromOp(FS, i -> bit > 0 ? i ^ bit : i);
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
    public static float sum(FloatVector v, float[] scratch) {
        v.intoArray(scratch, 0);
        float s = 0f;
        for (int i = 0; i < v.length(); i++) {
            s += scratch[i];
        }
        return s;
    }

    /**
     * Tree-order sum of v's lanes: the reference definition. The matvec kernels reduce two or four vectors at
     * once with the same order written out in place (see the class comment): a helper method taking and
     * returning vectors is only safe where C2 inlines it, and it does not when an earlier, larger compiled
     * version of the helper exists (the vectors are then boxed on every call, allocating and ten times slower).
     */
    static float tree(FloatVector v) {
        v = v.add(v.rearrange(XH));
        if (L >= 4) {
            v = v.add(v.rearrange(XQ));
        }
        if (L >= 8) {
            v = v.add(v.rearrange(X8));
        }
        if (L >= 16) {
            v = v.add(v.rearrange(X16));
        }
        if (L >= 32) {
            v = v.add(v.rearrange(X32));
        }
        if (L >= 64) {
            v = v.add(v.rearrange(X64));
        }
        return v.lane(0);
    }
}
