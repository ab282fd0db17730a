package io.strata.kernels.cpu;

import io.strata.core.weights.TensorView;

/** The gated MLP of Mixtral/Qwen experts: w2(silu(w1 x) * w3 x). */
public final class SwiGlu {
    private SwiGlu() {
    }

    public static float silu(float x) {
        return x / (1f + (float) Math.exp(-x));
    }

    /** gate[i] = silu(gate[i]) * up[i]. */
    public static void gateInPlace(float[] gate, float[] up, int n) {
        for (int i = 0; i < n; i++) {
            gate[i] = silu(gate[i]) * up[i];
        }
    }

    /**
     * out = w2(silu(w1 x) * w3 x); {@code gate} and {@code up} are scratch of the intermediate size (w1's rows).
     */
    public static void apply(MatVec mv, TensorView w1, TensorView w3, TensorView w2, float[] x, float[] gate,
                             float[] up, float[] out) {
        mv.apply(w1, x, gate);
        mv.apply(w3, x, up);
        gateInPlace(gate, up, Math.toIntExact(w1.rows()));
        mv.apply(w2, gate, out);
    }
}
