package io.strata.loader.trace;

/** One router decision: at {@code step}, {@code layer} sent {@code token} to {@code experts} (weights may be null). */
public record RoutingRecord(int step, int layer, int token, int[] experts, double[] weights) {
    public double weight(int i) {
        return weights == null || i >= weights.length ? Double.NaN : weights[i];
    }
}
