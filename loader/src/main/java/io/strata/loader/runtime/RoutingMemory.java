package io.strata.loader.runtime;

import java.util.Arrays;

/**
 * The router's latest decision per layer, kept so that the expert requests that follow carry each expert's gate
 * weight to the cache policy. Written by the decoding thread, read by the same thread's requests.
 */
final class RoutingMemory {
    /** Per layer, the gate weight of each expert in the latest observed routing (NaN: not chosen). */
    private final float[][] lastRouting;
    private final int experts;

    RoutingMemory(int layers, int experts) {
        this.lastRouting = new float[layers][];
        this.experts = experts;
    }

    void observe(int layer, int[] chosen, float[] weights) {
        if (layer < 0 || layer >= lastRouting.length || experts == 0) {
            return;
        }
        float[] w = new float[experts];
        Arrays.fill(w, Float.NaN);
        for (int i = 0; i < chosen.length && i < weights.length; i++) {
            if (chosen[i] >= 0 && chosen[i] < w.length) {
                w[chosen[i]] = weights[i];
            }
        }
        lastRouting[layer] = w;
    }

    /** The gate weight the router last gave ({@code layer}, {@code expert}), or NaN when it was not just chosen. */
    double weight(int layer, int expert) {
        float[] w = layer >= 0 && layer < lastRouting.length ? lastRouting[layer] : null;
        return w == null || expert >= w.length || Float.isNaN(w[expert]) ? Double.NaN : w[expert];
    }
}
