package io.strata.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link SwiGlu}'s own e^v and silu: close to the exact values (e^v within 2 ulp over the whole float range where
 * it is finite and normal, silu within 3 ulp of the double-precision value), the edges (overflow to +inf, e^v of
 * very negative v only ever added to 1, NaN), and the vector body giving the scalar tail's bits at every offset.
 */
class SwiGluTest {
    private static double ulps(float got, double want) {
        return Math.abs(got - want) / Math.ulp((float) want);
    }

    @Test
    void expIsWithinTwoUlpsAndSiluWithinThree() {
        double worstExp = 0;
        double worstSilu = 0;
        for (float v = -86f; v <= 88.7f; v = Math.nextUp(v + 0.0007f)) {
            worstExp = Math.max(worstExp, ulps(SwiGlu.exp(v), Math.exp(v)));
            double silu = v / (1 + Math.exp(-v));
            if (silu != 0) {
                worstSilu = Math.max(worstSilu, ulps(SwiGlu.silu(v), silu));
            }
        }
        assertTrue(worstExp <= 2, "e^v off by " + worstExp + " ulp");
        assertTrue(worstSilu <= 3, "silu off by " + worstSilu + " ulp");
        assertEquals(Float.POSITIVE_INFINITY, SwiGlu.exp(88.73f));
        assertEquals(Float.POSITIVE_INFINITY, SwiGlu.exp(Float.POSITIVE_INFINITY));
        assertTrue(SwiGlu.exp(-1000f) > 0 && 1f + SwiGlu.exp(-1000f) == 1f, "tiny e^v adds nothing to 1");
        assertTrue(Float.isNaN(SwiGlu.exp(Float.NaN)));
        assertEquals(-0f, SwiGlu.silu(-100f));
        assertEquals(100f, SwiGlu.silu(100f));
        assertTrue(Float.isNaN(SwiGlu.silu(Float.NaN)));
    }

    @Test
    void vectorBodyGivesTheScalarBitsAtEveryOffset() {
        Random rnd = new Random(3);
        int n = 301;
        for (int from = 0; from < 20; from++) {
            float[] gate = new float[n];
            float[] up = new float[n];
            for (int i = 0; i < n; i++) {
                gate[i] = (float) (rnd.nextGaussian() * Math.pow(2, rnd.nextInt(12) - 4));
                up[i] = (float) rnd.nextGaussian();
            }
            gate[from + 7] = 95f;
            gate[from + 8] = -95f;
            gate[from + 9] = Float.NaN;
            float[] want = gate.clone();
            for (int i = from; i < n; i++) {
                want[i] = SwiGlu.silu(gate[i]) * up[i];
            }
            SwiGlu.gateInPlace(gate, 0, up, 0, from, n);
            for (int i = 0; i < n; i++) {
                assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(gate[i]), "from " + from
                        + ", element " + i);
            }
        }
    }
}
