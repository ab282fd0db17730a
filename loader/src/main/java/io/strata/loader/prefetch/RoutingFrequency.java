package io.strata.loader.prefetch;

import java.util.Arrays;

/** Per-layer counts of how often each expert was routed to, with a slow decay so that drift is followed. */
final class RoutingFrequency {
    private static final double DECAY = 0.995;

    private final double[][] counts;

    public RoutingFrequency(int layers, int experts) {
        this.counts = new double[layers][experts];
    }

    public synchronized void observe(int layer, int[] experts) {
        if (layer < 0 || layer >= counts.length) {
            return;
        }
        double[] c = counts[layer];
        for (int i = 0; i < c.length; i++) {
            c[i] *= DECAY;
        }
        for (int e : experts) {
            if (e >= 0 && e < c.length) {
                c[e] += 1;
            }
        }
    }

    /** The {@code k} most frequent experts of {@code layer}, most frequent first; empty before any observation. */
    public synchronized int[] top(int layer, int k) {
        if (layer < 0 || layer >= counts.length) {
            return new int[0];
        }
        double[] c = counts[layer];
        Integer[] idx = new Integer[c.length];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i;
        }
        Arrays.sort(idx, (a, b) -> Double.compare(c[b], c[a]));
        return Arrays.stream(idx).limit(k).filter(i -> c[i] > 0).mapToInt(Integer::intValue).toArray();
    }
}
