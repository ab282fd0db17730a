package io.strata.kernels.cpu;

import io.strata.core.kv.KvCache;
import io.strata.core.kv.KvPageView;

/**
 * Grouped-query attention of one new position over every cached position of a layer (causal by construction:
 * the cache holds exactly the positions up to and including the new one). K/V are read only through
 * {@link KvCache#page} views, each closed after use; the float operations and their order depend only on the
 * positions, never on how the cache pages them, so every conforming cache gives bit-identical output. Where
 * four query heads share a KV head (grouped-query attention), their dot products and value sums run together
 * ({@link VecMath#dot4}, {@link VecMath#axpy4}): each K or V load serves four, with each head's own operations.
 * Holds per-sequence scratch: not thread-safe.
 */
public final class Attention {
    private final int heads;
    private final int kvHeads;
    private final int headDim;
    private final float scale;
    private final boolean vector;
    private float[] scores = new float[0];
    private final float[] lanes = new float[VecMath.lanes()];
    private final float[] four = new float[4];

    public Attention(int heads, int kvHeads, int headDim, boolean vector) {
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException("num_attention_heads " + heads + " is not a multiple of num_key_value_heads "
                    + kvHeads);
        }
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.scale = (float) (1.0 / Math.sqrt(headDim));
        this.vector = vector;
    }

    /** out[h*headDim ..] = sum_t softmax_t(q_h . k_t * scale) v_t, with K/V head h / (heads/kvHeads). */
    public void attend(KvCache cache, int layer, float[] q, float[] out) {
        attend(cache, layer, cache.length(layer), q, 0, out, 0);
    }

    /**
     * As {@link #attend(KvCache, int, float[], float[])} over the first {@code len} cached positions only, with q
     * at q[qOff ..] and the result at out[outOff ..]: position p of a batch whose keys and values are all
     * appended already attends with len = p + 1 (causal), and gets the bits a token-by-token pass gives it.
     */
    public void attend(KvCache cache, int layer, int len, float[] q, int qOff, float[] out, int outOff) {
        int kvDim = cache.kvDim();
        if (kvDim != kvHeads * headDim) {
            throw new IllegalArgumentException("KV cache kvDim " + kvDim + " != num_key_value_heads x head_dim = "
                    + kvHeads * headDim);
        }
        int cached = cache.length(layer);
        if (len < 1 || len > cached) {
            throw new IllegalArgumentException("attention over " + len + " positions of layer " + layer + ", cache holds "
                    + cached);
        }
        int perPage = cache.tokensPerPage();
        int pages = (len + perPage - 1) / perPage;
        if (scores.length < heads * len) {
            scores = new float[Math.max(heads * len, scores.length * 2)];
        }
        int group = heads / kvHeads;
        int pos = 0;
        for (int p = 0; p < pages; p++) {
            try (KvPageView view = cache.page(layer, p)) {
                int n = view.tokens();
                checkPage(layer, p, n, pos, cached, perPage);
                n = Math.min(n, len - pos);
                var keys = view.keys();
                for (int t = 0; t < n; t++) {
                    long rowBase = (long) t * kvDim;
                    int h = 0;
                    // four query heads of one KV head at once (each with the single head's operations)
                    for (; vector && group % 4 == 0 && h < heads; h += 4) {
                        VecMath.dot4(q, qOff + h * headDim, headDim, keys, rowBase + (long) (h / group) * headDim,
                                headDim, four, lanes);
                        for (int j = 0; j < 4; j++) {
                            scores[(h + j) * len + pos + t] = four[j] * scale;
                        }
                    }
                    for (; h < heads; h++) {
                        long k = rowBase + (long) (h / group) * headDim;
                        float d = vector ? VecMath.dot(q, qOff + h * headDim, keys, k, headDim, lanes)
                                : VecMath.dotScalar(q, qOff + h * headDim, keys, k, headDim);
                        scores[h * len + pos + t] = d * scale;
                    }
                }
                pos += n;
            }
        }
        for (int h = 0; h < heads; h++) {
            Softmax.inPlace(scores, h * len, len);
        }
        java.util.Arrays.fill(out, outOff, outOff + heads * headDim, 0f);
        pos = 0;
        for (int p = 0; p < pages; p++) {
            try (KvPageView view = cache.page(layer, p)) {
                int n = view.tokens();
                checkPage(layer, p, n, pos, cached, perPage);
                n = Math.min(n, len - pos);
                var values = view.values();
                for (int t = 0; t < n; t++) {
                    long rowBase = (long) t * kvDim;
                    int h = 0;
                    for (; vector && group % 4 == 0 && h < heads; h += 4) {
                        VecMath.axpy4(scores, h * len + pos + t, len, values, rowBase + (long) (h / group) * headDim,
                                out, outOff + h * headDim, headDim, headDim);
                    }
                    for (; h < heads; h++) {
                        long v = rowBase + (long) (h / group) * headDim;
                        float w = scores[h * len + pos + t];
                        if (vector) {
                            VecMath.axpy(w, values, v, out, outOff + h * headDim, headDim);
                        } else {
                            VecMath.axpyScalar(w, values, v, out, outOff + h * headDim, headDim);
                        }
                    }
                }
                pos += n;
            }
        }
    }

    private static void checkPage(int layer, int p, int n, int pos, int len, int perPage) {
        boolean last = pos + n == len;
        if (n <= 0 || n > perPage || pos + n > len || (!last && n != perPage)) {
            throw new IllegalStateException("KV cache layer " + layer + " page " + p + " holds " + n
                    + " positions; expected " + Math.min(perPage, len - pos) + " (length " + len + ")");
        }
    }
}
