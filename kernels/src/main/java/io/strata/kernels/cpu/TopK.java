package io.strata.kernels.cpu;

/** Router selection: the k largest entries, largest first (ties to the lower index, as torch.topk on CPU). */
public final class TopK {
    private TopK() {
    }

    /** Fills idx[0..k) and val[0..k) with the k largest values of x[0..n), in descending order. */
    public static void select(float[] x, int n, int k, int[] idx, float[] val) {
        if (k > n || k <= 0) {
            throw new IllegalArgumentException("top-" + k + " of " + n + " values");
        }
        for (int j = 0; j < k; j++) {
            idx[j] = -1;
            val[j] = Float.NEGATIVE_INFINITY;
        }
        for (int i = 0; i < n; i++) {
            float v = x[i];
            if (idx[k - 1] >= 0 && !(v > val[k - 1])) {
                continue;
            }
            int j = k - 1;
            while (j > 0 && (idx[j - 1] < 0 || v > val[j - 1])) {
                idx[j] = idx[j - 1];
                val[j] = val[j - 1];
                j--;
            }
            idx[j] = i;
            val[j] = v;
        }
    }

    /**
     * Router gating: probabilities = softmax(logits) (in place), then the top k, optionally renormalised to sum
     * to 1 (Mixtral always; Qwen3-MoE when norm_topk_prob).
     */
    public static void route(float[] logits, int n, int k, boolean renormalize, int[] idx, float[] weights) {
        Softmax.inPlace(logits, 0, n);
        select(logits, n, k, idx, weights);
        if (renormalize) {
            float sum = 0f;
            for (int j = 0; j < k; j++) {
                sum += weights[j];
            }
            for (int j = 0; j < k; j++) {
                weights[j] /= sum;
            }
        }
    }
}
