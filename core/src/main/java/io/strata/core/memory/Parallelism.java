package io.strata.core.memory;

/**
 * How a model is spread over devices. TP cuts dense and expert matrices, EP spreads the experts of a layer,
 * PP splits the layers into stages, DP replicates everything (each replica serves its share of the batch).
 */
public record Parallelism(int tp, int ep, int pp, int dp) {
    public static final Parallelism NONE = new Parallelism(1, 1, 1, 1);

    public Parallelism {
        if (tp < 1 || ep < 1 || pp < 1 || dp < 1) {
            throw new IllegalArgumentException("--tp/--ep/--pp/--dp must be at least 1: " + tp + "/" + ep + "/" + pp
                    + "/" + dp);
        }
        if (io.strata.core.util.Sizes.times(tp, ep, pp, dp) > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("--tp " + tp + " x --ep " + ep + " x --pp " + pp + " x --dp " + dp
                    + " is more than " + Integer.MAX_VALUE + " devices");
        }
    }

    public int devices() {
        return tp * ep * pp * dp;
    }
}
