package io.strata.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.strata.core.kv.KvCache;
import io.strata.kernels.decoder.HeapKvCache;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.Test;

class AttentionTest {
    private static final int HEADS = 4;
    private static final int KV_HEADS = 2;
    private static final int HD = 24;
    private static final int LEN = 13;

    @Test
    void groupedQueryAttentionMatchesDirectComputation() {
        Random rnd = new Random(9);
        float[][] keys = new float[LEN][];
        float[][] values = new float[LEN][];
        for (int t = 0; t < LEN; t++) {
            keys[t] = Tensors.gaussian(rnd, KV_HEADS * HD);
            values[t] = Tensors.gaussian(rnd, KV_HEADS * HD);
        }
        float[] q = Tensors.gaussian(rnd, HEADS * HD);
        double[] want = new double[HEADS * HD];
        for (int h = 0; h < HEADS; h++) {
            int g = h / (HEADS / KV_HEADS);
            double[] s = new double[LEN];
            double max = Double.NEGATIVE_INFINITY;
            for (int t = 0; t < LEN; t++) {
                for (int i = 0; i < HD; i++) {
                    s[t] += (double) q[h * HD + i] * keys[t][g * HD + i];
                }
                s[t] /= Math.sqrt(HD);
                max = Math.max(max, s[t]);
            }
            double z = 0;
            for (int t = 0; t < LEN; t++) {
                s[t] = Math.exp(s[t] - max);
                z += s[t];
            }
            for (int t = 0; t < LEN; t++) {
                for (int i = 0; i < HD; i++) {
                    want[h * HD + i] += s[t] / z * values[t][g * HD + i];
                }
            }
        }
        float[] reference = null;
        for (boolean vector : new boolean[] {true, false}) {
            for (int perPage : new int[] {1, 4, 13, 64}) {
                try (KvCache cache = new HeapKvCache(1, KV_HEADS * HD, perPage)) {
                    for (int t = 0; t < LEN; t++) {
                        cache.append(0, keys[t], values[t]);
                    }
                    float[] out = new float[HEADS * HD];
                    new Attention(HEADS, KV_HEADS, HD, vector).attend(cache, 0, q, out);
                    for (int i = 0; i < out.length; i++) {
                        assertEquals(want[i], out[i], 1e-5, "vector=" + vector + " page=" + perPage + " i=" + i);
                    }
                    if (vector) {
                        if (reference == null) {
                            reference = out;
                        } else {
                            assertArrayEquals(reference, out, "bit-identical whatever the page size");
                        }
                    }
                }
            }
        }
    }

    /**
     * Four query heads per KV head go through VecMath.dot4 / axpy4 together; every output must keep the bits of
     * the one-head-at-a-time computation (dot, scale, softmax, axpy per head), for head sizes with and without
     * a scalar tail.
     */
    @Test
    void fourHeadsPerKvHeadKeepTheOneHeadBits() {
        Random rnd = new Random(11);
        int heads = 8;
        int kvHeads = 2;
        for (int hd : new int[] {24, 32, 128}) {
            int len = 37;
            float[][] keys = new float[len][];
            float[][] values = new float[len][];
            for (int t = 0; t < len; t++) {
                keys[t] = Tensors.gaussian(rnd, kvHeads * hd);
                values[t] = Tensors.gaussian(rnd, kvHeads * hd);
            }
            float[] q = Tensors.gaussian(rnd, heads * hd);
            float scale = (float) (1.0 / Math.sqrt(hd));
            float[] lanes = new float[VecMath.lanes()];
            float[] want = new float[heads * hd];
            for (int h = 0; h < heads; h++) {
                int g = h / (heads / kvHeads);
                float[] s = new float[len];
                for (int t = 0; t < len; t++) {
                    s[t] = VecMath.dot(q, h * hd, MemorySegment.ofArray(keys[t]), (long) g * hd, hd, lanes) * scale;
                }
                Softmax.inPlace(s, 0, len);
                for (int t = 0; t < len; t++) {
                    VecMath.axpy(s[t], MemorySegment.ofArray(values[t]), (long) g * hd, want, h * hd, hd);
                }
            }
            try (KvCache cache = new HeapKvCache(1, kvHeads * hd, 16)) {
                for (int t = 0; t < len; t++) {
                    cache.append(0, keys[t], values[t]);
                }
                float[] out = new float[heads * hd + 3];
                new Attention(heads, kvHeads, hd, true).attend(cache, 0, len, q, 0, out, 3);
                for (int i = 0; i < want.length; i++) {
                    assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(out[3 + i]),
                            "head dim " + hd + ", output " + i);
                }
            }
        }
    }
}
