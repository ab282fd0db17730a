package io.strata.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class SmallKernelsTest {
    private static final int[] LENGTHS = {1, 7, 15, 16, 17, 33, 64, 100, 257};

    @Test
    void rmsNormVectorMatchesScalarAndFormula() {
        Random rnd = new Random(1);
        for (int n : LENGTHS) {
            float[] x = Tensors.gaussian(rnd, n + 2);
            float[] w = Tensors.gaussian(rnd, n);
            float[] a = new float[n + 1];
            float[] b = new float[n + 1];
            RmsNorm.apply(x, 2, w, 1e-5f, a, 1, n);
            RmsNorm.applyScalar(x, 2, w, 1e-5f, b, 1, n);
            double ss = 0;
            for (int i = 0; i < n; i++) {
                ss += (double) x[2 + i] * x[2 + i];
            }
            double inv = 1 / Math.sqrt(ss / n + 1e-5);
            for (int i = 0; i < n; i++) {
                assertEquals(w[i] * x[2 + i] * inv, a[1 + i], 1e-5 * (1 + Math.abs(w[i] * x[2 + i] * inv)));
                assertEquals(b[1 + i], a[1 + i], 1e-5f * (1 + Math.abs(b[1 + i])));
            }
        }
    }

    @Test
    void ropeMatchesDirectFormula() {
        int d = 16;
        double theta = 10000;
        Rope rope = new Rope(d, theta);
        Random rnd = new Random(2);
        float[] cos = new float[d / 2];
        float[] sin = new float[d / 2];
        for (int pos : new int[] {0, 1, 5, 77, 4095}) {
            float[] v = Tensors.gaussian(rnd, 2 * d);
            float[] orig = v.clone();
            rope.angles(pos, cos, sin);
            rope.apply(v, 0, 2, cos, sin);
            for (int h = 0; h < 2; h++) {
                for (int i = 0; i < d / 2; i++) {
                    double angle = pos * Math.pow(theta, -2.0 * i / d);
                    double x1 = orig[h * d + i];
                    double x2 = orig[h * d + i + d / 2];
                    double tol = 1e-6 * (1 + pos);
                    assertEquals(x1 * Math.cos(angle) - x2 * Math.sin(angle), v[h * d + i], tol);
                    assertEquals(x2 * Math.cos(angle) + x1 * Math.sin(angle), v[h * d + i + d / 2], tol);
                }
            }
            if (pos == 0) {
                assertArrayEquals(orig, v);
            }
        }
    }

    /**
     * Interleaved RoPE (llama.cpp's NORM) on a head whose dims are permuted as llama.cpp permutes arch llama's q/k
     * rows (dim 2i = HF dim i, 2i + 1 = HF dim i + d/2) is rotate-half on the HF head, permuted: bit for bit, as
     * each pair sees the same two floats and the same angle.
     */
    @Test
    void interleavedRopeOnPermutedDimsIsRotateHalfPermuted() {
        int d = 16;
        Rope half = new Rope(d, 10000);
        Rope pairs = new Rope(d, 10000, true);
        Random rnd = new Random(3);
        float[] cos = new float[d / 2];
        float[] sin = new float[d / 2];
        for (int pos : new int[] {1, 9, 300}) {
            float[] hf = Tensors.gaussian(rnd, 3 * d);
            float[] permuted = new float[hf.length];
            for (int h = 0; h < 3; h++) {
                for (int i = 0; i < d / 2; i++) {
                    permuted[h * d + 2 * i] = hf[h * d + i];
                    permuted[h * d + 2 * i + 1] = hf[h * d + i + d / 2];
                }
            }
            float[] wrong = permuted.clone();
            half.angles(pos, cos, sin);
            half.apply(hf, 0, 3, cos, sin);
            pairs.apply(permuted, 0, 3, cos, sin);
            half.apply(wrong, 0, 3, cos, sin);
            for (int h = 0; h < 3; h++) {
                for (int i = 0; i < d / 2; i++) {
                    assertEquals(hf[h * d + i], permuted[h * d + 2 * i]);
                    assertEquals(hf[h * d + i + d / 2], permuted[h * d + 2 * i + 1]);
                }
            }
            // rotate-half on the permuted layout pairs the wrong dims
            assertNotEquals(permuted[1], wrong[1]);
        }
    }

    @Test
    void softmaxIsStableAndNormalised() {
        float[] x = {1000f, 1001f, 999f, -1e30f};
        Softmax.inPlace(x, 0, 4);
        double e = Math.exp(1);
        assertEquals(1 / (1 + e + 1 / e), x[0], 1e-6);
        assertEquals(e / (1 + e + 1 / e), x[1], 1e-6);
        assertEquals(0f, x[3]);
        assertEquals(1f, x[0] + x[1] + x[2] + x[3], 1e-6f);
    }

    @Test
    void topKOrdersLargestFirstWithTiesToLowerIndex() {
        Random rnd = new Random(4);
        for (int trial = 0; trial < 200; trial++) {
            int n = 1 + rnd.nextInt(64);
            int k = 1 + rnd.nextInt(n);
            float[] x = new float[n];
            for (int i = 0; i < n; i++) {
                x[i] = rnd.nextInt(10);
            }
            int[] idx = new int[k];
            float[] val = new float[k];
            TopK.select(x, n, k, idx, val);
            int[] want = IntStream.range(0, n).boxed()
                    .sorted(Comparator.<Integer>comparingDouble(i -> -x[i]).thenComparingInt(i -> i))
                    .limit(k).mapToInt(Integer::intValue).toArray();
            assertArrayEquals(want, idx, Arrays.toString(x) + " k=" + k);
        }
    }

    @Test
    void routeRenormalisesOnlyWhenAsked() {
        float[] logits = {0.5f, 2f, -1f, 1.5f, 0f};
        double[] p = new double[5];
        double z = 0;
        for (int i = 0; i < 5; i++) {
            z += Math.exp(logits[i]);
        }
        for (int i = 0; i < 5; i++) {
            p[i] = Math.exp(logits[i]) / z;
        }
        int[] idx = new int[2];
        float[] w = new float[2];
        TopK.route(logits.clone(), 5, 2, true, idx, w);
        assertArrayEquals(new int[] {1, 3}, idx);
        assertEquals(p[1] / (p[1] + p[3]), w[0], 1e-6);
        assertEquals(p[3] / (p[1] + p[3]), w[1], 1e-6);
        assertEquals(1f, w[0] + w[1], 1e-6f);
        TopK.route(logits.clone(), 5, 2, false, idx, w);
        assertEquals(p[1], w[0], 1e-6);
        assertEquals(p[3], w[1], 1e-6);
        assertTrue(w[0] + w[1] < 0.95f);
    }

    @Test
    void swiGluMatchesDefinition() {
        assertEquals(0f, SwiGlu.silu(0f));
        assertEquals(3 / (1 + Math.exp(-3)), SwiGlu.silu(3f), 1e-6);
        float[] g = {1f, -2f};
        float[] u = {2f, 3f};
        SwiGlu.gateInPlace(g, u, 2);
        assertEquals(2 / (1 + Math.exp(-1)), g[0], 1e-6);
        assertEquals(3 * -2 / (1 + Math.exp(2)), g[1], 1e-6);
    }

    @Test
    void int8MatVecVectorMatchesScalarAndDequantisedProduct() {
        Random rnd = new Random(5);
        try (Arena arena = Arena.ofConfined()) {
            for (int[] s : new int[][] {{3, 5}, {17, 33}, {64, 100}, {40, 257}}) {
                int out = s[0];
                int in = s[1];
                float[] w = Tensors.gaussian(rnd, out * in);
                MemorySegment q = arena.allocate((long) out * in);
                float[] scales = Int8MatVec.quantize(w, out, in, q);
                float[] x = Tensors.gaussian(rnd, in);
                float[] yv = new float[out];
                float[] ys = new float[out];
                Int8MatVec.apply(q, scales, out, in, x, yv);
                Int8MatVec.applyScalar(q, scales, out, in, x, ys);
                for (int o = 0; o < out; o++) {
                    double deq = 0;
                    double exact = 0;
                    double xabs = 0;
                    for (int i = 0; i < in; i++) {
                        byte b = q.get(ValueLayout.JAVA_BYTE, (long) o * in + i);
                        assertTrue(Math.abs(b * scales[o] - w[o * in + i]) <= scales[o] / 2 + 1e-6, "rounding");
                        deq += (double) b * scales[o] * x[i];
                        exact += (double) w[o * in + i] * x[i];
                        xabs += Math.abs(x[i]);
                    }
                    assertEquals(deq, ys[o], 1e-4 * (1 + Math.abs(deq)) + 1e-5 * xabs * scales[o] * 127);
                    assertEquals(ys[o], yv[o], 1e-4f * (1 + Math.abs(ys[o])) + 1e-5f * (float) xabs * scales[o] * 127);
                    assertEquals(exact, yv[o], xabs * scales[o] / 2 + 1e-3);
                }
            }
        }
    }

    @Test
    void vecMathVectorMatchesScalar() {
        Random rnd = new Random(6);
        for (int n : LENGTHS) {
            float[] seg = Tensors.gaussian(rnd, n + 5);
            MemorySegment s = MemorySegment.ofArray(seg);
            float[] a = Tensors.gaussian(rnd, n + 1);
            float d1 = VecMath.dot(a, 1, s, 5, n);
            float d2 = VecMath.dotScalar(a, 1, s, 5, n);
            assertEquals(d2, d1, 1e-5f * n);
            float[] y1 = Tensors.gaussian(rnd, n);
            float[] y2 = y1.clone();
            VecMath.axpy(0.7f, s, 3, y1, 0, n);
            VecMath.axpyScalar(0.7f, s, 3, y2, 0, n);
            assertArrayEquals(y2, y1, 1e-5f);
        }
    }
}
