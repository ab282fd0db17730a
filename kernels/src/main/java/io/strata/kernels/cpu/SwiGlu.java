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
        gateInPlace(gate, 0, up, 0, 0, n);
    }

    /** gate[gOff + i] = silu(gate[gOff + i]) * up[uOff + i] for i in [from, to). */
    static void gateInPlace(float[] gate, int gOff, float[] up, int uOff, int from, int to) {
        for (int i = from; i < to; i++) {
            gate[gOff + i] = silu(gate[gOff + i]) * up[uOff + i];
        }
    }

    /**
     * out = w2(silu(w1 x) * w3 x); {@code gate} and {@code up} are scratch of the intermediate size (w1's rows).
     * The gate and up projections are one {@link MatVec#applyGateUp} pass.
     */
    public static void apply(MatVec mv, TensorView w1, TensorView w3, TensorView w2, float[] x, float[] gate,
                             float[] up, float[] out) {
        mv.applyGateUp(w1, w3, x, 0, gate, 0, up, 0, 0, Math.toIntExact(w1.rows()));
        mv.apply(w2, gate, out);
    }
}
