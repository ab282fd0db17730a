package io.strata.kernels.cpu;

import io.strata.core.weights.TensorView;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The gated MLP of Mixtral/Qwen experts: w2(silu(w1 x) * w3 x).
 *
 * <p>silu(x) = x / (1 + e^-x) with e^v computed here in float ({@link #exp}), the same operations in vector lanes
 * and in the scalar tail, so a value's bits do not depend on where in a row it falls, on the vector width or on
 * the batch. Why not Math.exp: it has no vector form, and one call per element (in double) cost about as much as
 * a tenth of a Q4_K_M prompt's processing (an expert's 32 positions x 3584 values per call); this is within 2 ulp
 * of e^v, and silu within 3 ulp.
 */
public final class SwiGlu {
    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    private static final float LOG2E = 1.44269504f;
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    private static final float ROUND = 12582912f; // 1.5 * 2^23: (v + ROUND) - ROUND rounds |v| < 2^22 to an integer
    /** Above this e^v overflows float; below LOW it is under 2^-124, and 1 + e^v is 1 exactly. */
    private static final float HIGH = 88.7228f;
    private static final float LOW = -86f;
    private static final float P0 = 1.9875691500e-4f;
    private static final float P1 = 1.3981999507e-3f;
    private static final float P2 = 8.3334519073e-3f;
    private static final float P3 = 4.1665795894e-2f;
    private static final float P4 = 1.6666665459e-1f;
    private static final float P5 = 5.0000001201e-1f;

    private SwiGlu() {
    }

    public static float silu(float x) {
        return x / (1f + exp(-x));
    }

    /**
     * e^v in float: n = nearest(v log2 e), r = v - n ln 2 (in two parts), e^r by Cephes' expf polynomial,
     * times 2^(n - 1) times 2; +inf above {@value #HIGH}, v clamped to {@value #LOW} below (where only 1 + e^v is
     * asked for, and that is 1); NaN stays NaN.
     */
    static float exp(float v) {
        float c = Math.max(v, LOW);
        float n = (c * LOG2E + ROUND) - ROUND;
        float r = Math.fma(-n, LN2_HI, c);
        r = Math.fma(-n, LN2_LO, r);
        float p = Math.fma(Math.fma(Math.fma(Math.fma(Math.fma(P0, r, P1), r, P2), r, P3), r, P4), r, P5);
        p = Math.fma(p, r * r, r) + 1f;
        float e = p * Float.intBitsToFloat(((int) n + 126) << 23) * 2f;
        return v > HIGH ? Float.POSITIVE_INFINITY : e;
    }

    private static FloatVector exp(FloatVector v) {
        FloatVector c = v.max(LOW);
        FloatVector n = c.mul(LOG2E).add(ROUND).sub(ROUND);
        FloatVector m = n.neg();
        FloatVector r = m.fma(FloatVector.broadcast(FS, LN2_HI), c);
        r = m.fma(FloatVector.broadcast(FS, LN2_LO), r);
        FloatVector p = FloatVector.broadcast(FS, P0).fma(r, FloatVector.broadcast(FS, P1))
                .fma(r, FloatVector.broadcast(FS, P2)).fma(r, FloatVector.broadcast(FS, P3))
                .fma(r, FloatVector.broadcast(FS, P4)).fma(r, FloatVector.broadcast(FS, P5));
        p = p.fma(r.mul(r), r).add(1f);
        FloatVector scale = ((IntVector) n.convert(VectorOperators.F2I, 0)).add(126).lanewise(VectorOperators.LSHL, 23)
                .reinterpretAsFloats();
        FloatVector e = p.mul(scale).mul(2f);
        return e.blend(Float.POSITIVE_INFINITY, v.compare(VectorOperators.GT, HIGH));
    }

    /** gate[i] = silu(gate[i]) * up[i]. */
    public static void gateInPlace(float[] gate, float[] up, int n) {
        gateInPlace(gate, 0, up, 0, 0, n);
    }

    /** gate[gOff + i] = silu(gate[gOff + i]) * up[uOff + i] for i in [from, to). */
    static void gateInPlace(float[] gate, int gOff, float[] up, int uOff, int from, int to) {
        int i = from;
        for (int end = to - FS.length(); i <= end; i += FS.length()) {
            FloatVector g = FloatVector.fromArray(FS, gate, gOff + i);
            FloatVector s = g.div(exp(g.neg()).add(1f));
            s.mul(FloatVector.fromArray(FS, up, uOff + i)).intoArray(gate, gOff + i);
        }
        for (; i < to; i++) {
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
