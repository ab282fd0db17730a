package io.strata.kernels.decoder;

/**
 * The router's decisions for one position: per layer, the chosen experts (most probable first) and their gating
 * weights as applied (after renormalisation, if any). Dense (non-MoE) layers have null entries.
 */
public record Routing(int position, int[][] experts, float[][] weights) {
    public int[] experts(int layer) {
        return experts[layer];
    }

    public float[] weights(int layer) {
        return weights[layer];
    }

    public int layers() {
        return experts.length;
    }
}
