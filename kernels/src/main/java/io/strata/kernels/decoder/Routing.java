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

    /**
     * This position's decisions in the JSONL format of shared/traces (one object per sparse layer, newline
     * terminated): {@code {"step":position,"layer":L,"token":0,"experts":[..],"weights":[..]}}.
     */
    public String toTraceJsonl() {
        StringBuilder b = new StringBuilder();
        for (int l = 0; l < experts.length; l++) {
            if (experts[l] == null) {
                continue;
            }
            b.append("{\"step\":").append(position).append(",\"layer\":").append(l).append(",\"token\":0,\"experts\":[");
            for (int j = 0; j < experts[l].length; j++) {
                b.append(j > 0 ? "," : "").append(experts[l][j]);
            }
            b.append("],\"weights\":[");
            for (int j = 0; j < weights[l].length; j++) {
                b.append(j > 0 ? "," : "").append(weights[l][j]);
            }
            b.append("]}\n");
        }
        return b.toString();
    }
}
