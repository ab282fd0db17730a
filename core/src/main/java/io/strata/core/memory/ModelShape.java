package io.strata.core.memory;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Locale;

/**
 * The sizes of a decoder-only (MoE) transformer that memory planning needs, read from a Hugging Face config.json:
 * Mixtral ({@code num_local_experts}, {@code intermediate_size}) and Qwen3-MoE ({@code num_experts},
 * {@code moe_intermediate_size}) spellings. A config with no experts is a dense model (one "expert" per layer:
 * the MLP).
 */
public record ModelShape(int hidden, int layers, int heads, int kvHeads, int headDim, int vocab, int experts,
                         int topK, int expertIntermediate, boolean tiedEmbeddings, boolean qkNorm, int dtypeBytes) {

    public static ModelShape fromConfig(JsonNode c) {
        int hidden = required(c, "hidden_size");
        int heads = required(c, "num_attention_heads");
        int experts = c.path("num_local_experts").asInt(c.path("num_experts").asInt(0));
        int inter = c.has("moe_intermediate_size") ? c.get("moe_intermediate_size").asInt()
                : required(c, "intermediate_size");
        String type = c.path("model_type").asText("");
        return new ModelShape(hidden, required(c, "num_hidden_layers"), heads,
                c.path("num_key_value_heads").asInt(heads), c.path("head_dim").asInt(hidden / heads),
                required(c, "vocab_size"), Math.max(experts, 0), experts > 0 ? c.path("num_experts_per_tok").asInt(2) : 1,
                inter, c.path("tie_word_embeddings").asBoolean(false), type.startsWith("qwen3"),
                dtypeBytes(c.path("torch_dtype").asText("bfloat16")));
    }

    private static int required(JsonNode c, String field) {
        JsonNode n = c.get(field);
        if (n == null || !n.canConvertToInt()) {
            throw new IllegalArgumentException("config.json: missing or non-integer field '" + field + "'");
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
        return 3L * hidden * expertIntermediate * dtypeBytes;
    }

    /** Bytes of one layer's attention projections (q, k, v, o). */
    public long attentionBytes() {
        long q = (long) heads * headDim;
        long kv = (long) kvHeads * headDim;
        return ((long) hidden * q * 2 + (long) hidden * kv * 2) * dtypeBytes;
    }

    /** Router (gate) weight of one layer. */
    public long routerBytes() {
        return isMoe() ? (long) experts * hidden * dtypeBytes : 0;
    }

    /** Norm weights of one layer (input and post-attention; Qwen3 adds per-head q/k norms). */
    public long layerNormBytes() {
        return (2L * hidden + (qkNorm ? 2L * headDim : 0)) * dtypeBytes;
    }

    public long embeddingBytes() {
        return (long) vocab * hidden * dtypeBytes;
    }

    public long lmHeadBytes() {
        return tiedEmbeddings ? 0 : embeddingBytes();
    }

    public long finalNormBytes() {
        return (long) hidden * dtypeBytes;
    }

    /** All dense (non-expert) weight bytes of the whole model. */
    public long denseBytes() {
        return layers * (attentionBytes() + routerBytes() + layerNormBytes()) + embeddingBytes() + lmHeadBytes()
                + finalNormBytes();
    }

    public long totalExpertBytes() {
        return (long) layers * expertsPerLayer() * expertBytes();
    }
}
