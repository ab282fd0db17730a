package io.strata.kernels.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** out = weight * x / sqrt(mean(x^2) + eps), as HF's LlamaRMSNorm (float32 throughout). */
public final class RmsNorm {
    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    private static final int L = FS.length();

    private RmsNorm() {
    }

    public static void apply(float[] x, int xOff, float[] weight, float eps, float[] out, int outOff, int n) {
        apply(x, xOff, weight, eps, out, outOff, n, new float[L]);
    }

    /** As above with caller-owned scratch of {@link VecMath#lanes()} floats (nothing allocated). */
    public static void apply(float[] x, int xOff, float[] weight, float eps, float[] out, int outOff, int n,
                             float[] lanes) {
        FloatVector acc = FloatVector.zero(FS);
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector v = FloatVector.fromArray(FS, x, xOff + i);
            acc = v.fma(v, acc);
        }
        float ss = Lanes.sum(acc, lanes);
        for (; i < n; i++) {
            ss += x[xOff + i] * x[xOff + i];
        }
        float inv = (float) (1.0 / Math.sqrt(ss / n + eps));
        FloatVector s = FloatVector.broadcast(FS, inv);
        i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromArray(FS, x, xOff + i).mul(s).mul(FloatVector.fromArray(FS, weight, i))
                    .intoArray(out, outOff + i);
        }
        for (; i < n; i++) {
            out[outOff + i] = weight[i] * (x[xOff + i] * inv);
        }
    }

    public static void applyScalar(float[] x, int xOff, float[] weight, float eps, float[] out, int outOff, int n) {
        float ss = 0f;
        for (int i = 0; i < n; i++) {
            ss += x[xOff + i] * x[xOff + i];
        }
        float inv = (float) (1.0 / Math.sqrt(ss / n + eps));
        for (int i = 0; i < n; i++) {
            out[outOff + i] = weight[i] * (x[xOff + i] * inv);
        }
    }
}
