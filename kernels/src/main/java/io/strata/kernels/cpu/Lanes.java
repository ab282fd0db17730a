package io.strata.kernels.cpu;

import jdk.incubator.vector.FloatVector;

/**
 * Deterministic horizontal sums. {@code reduceLanes(ADD)} may add lanes in a different order once C2 compiles
 * it than in the interpreter, so the same input could give different bits early and late in a run; summing the
 * lanes in index order gives the same float in every execution mode, which bit-exact comparisons rely on.
 */
public final class Lanes {
    static final int L = FloatVector.SPECIES_PREFERRED.length();

    private Lanes() {
    }

    /** Sum of v's lanes in index order; {@code scratch} holds at least {@code v.length()} floats. */
    public static float sum(FloatVector v, float[] scratch) {
        v.intoArray(scratch, 0);
        float s = 0f;
        for (int i = 0; i < v.length(); i++) {
            s += scratch[i];
        }
        return s;
    }
}
