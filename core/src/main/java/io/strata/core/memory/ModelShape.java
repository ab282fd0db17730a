package io.strata.core.memory;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.core.util.Sizes;
import java.util.Locale;

/**
 * The sizes of a decoder-only (MoE) transformer that memory planning needs, read from a Hugging Face config.json:
 * Mixtral ({@code num_local_experts}, {@code intermediate_size}) and Qwen3-MoE ({@code num_experts},
 * {@code moe_intermediate_size}) spellings. A config with no experts is a dense model (one "expert" per layer:
 * the MLP). Sizes are saturating products ({@link Sizes#times}): absurd configs read as too large, never negative.
 */
public record ModelShape(int hidden, int layers, int heads, int kvHeads, int headDim, int vocab, int experts,
                         int topK, int expertIntermediate, boolean tiedEmbeddings, boolean qkNorm, int dtypeBytes,
                         double expertBytesPerWeight, double denseBytesPerWeight) {

    /**
     * The shape with its weights sized as a manifest stores them: bytes per weight element of the expert tensors
     * and of the dense ones, measured over the manifest's tensors (a Q4_K_M model stores about 0.56-0.82 bytes per
     * weight, not the config's {@code torch_dtype}). KV and activations keep {@link #dtypeBytes}.
     */
    public ModelShape withStoredWeights(double expertBytesPerWeight, double denseBytesPerWeight) {
        if (!(expertBytesPerWeight > 0) || !(denseBytesPerWeight > 0)) {
            throw new IllegalArgumentException("bytes per weight must be positive: " + expertBytesPerWeight + ", "
                    + denseBytesPerWeight);
        }
        return new ModelShape(hidden, layers, heads, kvHeads, headDim, vocab, experts, topK, expertIntermediate,
                tiedEmbeddings, qkNorm, dtypeBytes, expertBytesPerWeight, denseBytesPerWeight);
    }

    /** {@code elements} weights at {@code bytesPerWeight}, rounded up; saturating like {@link Sizes#times}. */
    private static long weights(long elements, double bytesPerWeight) {
        double b = Math.ceil(elements * bytesPerWeight);
        return b >= Long.MAX_VALUE ? Long.MAX_VALUE : (long) b;
    }

    /** Reads {@code c}; every count must be a positive integer (experts may be 0), named in the error if not. */
    public static ModelShape fromConfig(JsonNode c) {
        if (c == null || !c.isObject()) {
            throw new IllegalArgumentException("config.json: the config is missing or not a JSON object");
        }
        int hidden = positive(c, "hidden_size");
        int heads = positive(c, "num_attention_heads");
        int experts = c.has("num_local_experts") ? atLeast(c, "num_local_experts", 0)
                : c.has("num_experts") ? atLeast(c, "num_experts", 0) : 0;
        int inter = c.has("moe_intermediate_size") ? positive(c, "moe_intermediate_size")
                : positive(c, "intermediate_size");
        int kvHeads = c.has("num_key_value_heads") ? positive(c, "num_key_value_heads") : heads;
        int headDim = c.hasNonNull("head_dim") ? positive(c, "head_dim") : hidden / heads;
        if (headDim < 1) {
            throw new IllegalArgumentException("config.json: field 'hidden_size' (" + hidden + ") is smaller than"
                    + " 'num_attention_heads' (" + heads + "): no head dimension left");
        }
        int topK = experts > 0 ? (c.has("num_experts_per_tok") ? positive(c, "num_experts_per_tok") : 2) : 1;
        if (experts > 0 && topK > experts) {
            throw new IllegalArgumentException("config.json: field 'num_experts_per_tok' (" + topK + ") is larger"
                    + " than the " + experts + " experts per layer");
        }
        String type = c.path("model_type").asText("");
        int bytes = dtypeBytes(c.path("torch_dtype").asText("bfloat16"));
        return new ModelShape(hidden, positive(c, "num_hidden_layers"), heads, kvHeads, headDim,
                positive(c, "vocab_size"), experts, topK, inter, c.path("tie_word_embeddings").asBoolean(false),
                type.startsWith("qwen3"), bytes, bytes, bytes);
    }

    private static int positive(JsonNode c, String field) {
        return atLeast(c, field, 1);
    }

    private static int atLeast(JsonNode c, String field, int min) {
        JsonNode n = c.get(field);
        if (n == null || !n.isIntegralNumber() || !n.canConvertToInt()) {
            throw new IllegalArgumentException("config.json: missing or non-integer field '" + field + "'"
                    + (n == null ? "" : ": " + n));
        }
        if (n.asInt() < min) {
            throw new IllegalArgumentException("config.json: field '" + field + "' must be "
                    + (min == 1 ? "a positive integer" : "at least " + min) + ", got " + n.asInt());
        }
        return n.asInt();
    }

    static int dtypeBytes(String torchDtype) {
        return switch (torchDtype.toLowerCase(Locale.ROOT)) {
            case "float32", "f32" -> 4;
            case "int8", "float8_e4m3fn", "fp8" -> 1;
            default -> 2; // bfloat16, float16
        };
    }

    public boolean isMoe() {
        return experts > 0;
    }

    /** Experts per layer (1 for a dense model's MLP). */
    public int expertsPerLayer() {
        return Math.max(1, experts);
    }

    /** Bytes of one expert: gate, up and down projections. */
    public long expertBytes() {
        return weights(Sizes.times(3, hidden, expertIntermediate), expertBytesPerWeight);
    }

    /** Bytes of one layer's attention projections (q, k, v, o). */
    public long attentionBytes() {
        long q = Sizes.times(heads, headDim);
        long kv = Sizes.times(kvHeads, headDim);
        return weights(Sizes.times(2, hidden, Sizes.plus(q, kv)), denseBytesPerWeight);
    }

    /** Router (gate) weight of one layer. */
    public long routerBytes() {
        return isMoe() ? weights(Sizes.times(experts, hidden), denseBytesPerWeight) : 0;
    }

    /** Norm weights of one layer (input and post-attention; Qwen3 adds per-head q/k norms). */
    public long layerNormBytes() {
        return weights(Sizes.plus(2L * hidden, qkNorm ? 2L * headDim : 0), denseBytesPerWeight);
    }

    public long embeddingBytes() {
        return weights(Sizes.times(vocab, hidden), denseBytesPerWeight);
    }

    public long lmHeadBytes() {
        return tiedEmbeddings ? 0 : embeddingBytes();
    }

    public long finalNormBytes() {
        return weights(hidden, denseBytesPerWeight);
    }

    /** All dense (non-expert) weight bytes of the whole model. */
    public long denseBytes() {
        return Sizes.plus(Sizes.times(layers, Sizes.plus(attentionBytes(), routerBytes(), layerNormBytes())),
                embeddingBytes(), lmHeadBytes(), finalNormBytes());
    }

    public long totalExpertBytes() {
        return Sizes.times(layers, expertsPerLayer(), expertBytes());
    }
}
