package io.strata.kernels.decoder;

import io.strata.core.model.ModelFamily;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.HashSet;
import java.util.Set;

/**
 * The parts of a Hugging Face config.json the decoder uses, for Mixtral ({@code model_type: mixtral}) and
 * Qwen3-MoE ({@code model_type: qwen3_moe}). Missing optional fields take the HF defaults of that architecture.
 * {@code rope_interleaved} (not an HF key: written for GGUF arch {@code llama}, whose q/k rows are kept as llama.cpp
 * stored them) makes RoPE rotate adjacent pairs (2i, 2i+1); absent or false is HF's rotate-half.
 */
public record ModelConfig(
        ModelFamily family,
        int vocabSize,
        int hiddenSize,
        int numLayers,
        int numHeads,
        int numKvHeads,
        int headDim,
        float rmsNormEps,
        double ropeTheta,
        int numExperts,
        int expertsPerToken,
        int expertIntermediateSize,
        int denseIntermediateSize,
        boolean normTopkProb,
        int decoderSparseStep,
        Set<Integer> mlpOnlyLayers,
        boolean tieWordEmbeddings,
        boolean ropeInterleaved) {

    /** See the class comment; the same key as {@code GgufModelConfig.ROPE_INTERLEAVED} (storage). */
    public static final String ROPE_INTERLEAVED = "rope_interleaved";

    public ModelConfig {
        mlpOnlyLayers = Set.copyOf(mlpOnlyLayers);
    }

    public static ModelConfig parse(JsonNode c) {
        String type = text(c, "model_type");
        ModelFamily arch = ModelFamily.fromModelType(type);
        if (!arch.decoderSupported()) {
            throw new IllegalArgumentException("config.json: model_type '" + type + "' is not supported (supported: "
                    + String.join(", ", ModelFamily.decoderSupportedTypes()) + ")");
        }
        int hidden = integer(c, "hidden_size");
        int heads = integer(c, "num_attention_heads");
        int kvHeads = c.has("num_key_value_heads") ? integer(c, "num_key_value_heads") : heads;
        int headDim = c.hasNonNull("head_dim") ? integer(c, "head_dim") : hidden / heads;
        int experts;
        int intermediate;
        int moeIntermediate;
        boolean normTopk;
        int sparseStep = 1;
        Set<Integer> mlpOnly = new HashSet<>();
        experts = integer(c, arch.expertCountKey());
        moeIntermediate = integer(c, arch.expertFfnKey());
        if (arch.renormalise() == ModelFamily.Renormalise.ALWAYS) {
            intermediate = moeIntermediate;
            normTopk = true;
        } else {
            intermediate = c.has("intermediate_size") ? integer(c, "intermediate_size") : 0;
            normTopk = c.has("norm_topk_prob") && c.get("norm_topk_prob").asBoolean();
            if (c.hasNonNull("decoder_sparse_step")) {
                sparseStep = integer(c, "decoder_sparse_step");
            }
            JsonNode only = c.get("mlp_only_layers");
            if (only != null && only.isArray()) {
                only.forEach(n -> mlpOnly.add(n.asInt()));
            }
        }
        return new ModelConfig(arch, integer(c, "vocab_size"), hidden, integer(c, "num_hidden_layers"), heads,
                kvHeads, headDim,
                c.has("rms_norm_eps") ? (float) c.get("rms_norm_eps").asDouble() : 1e-6f,
                c.has("rope_theta") ? c.get("rope_theta").asDouble() : arch.defaultRopeTheta(),
                experts, integer(c, "num_experts_per_tok"), moeIntermediate, intermediate, normTopk,
                sparseStep, mlpOnly,
                c.has("tie_word_embeddings") && c.get("tie_word_embeddings").asBoolean(),
                bool(c, ROPE_INTERLEAVED));
    }

    /** Whether {@code layer} has a sparse MoE block (Qwen3-MoE may interleave dense MLP layers). */
    public boolean isSparse(int layer) {
        return numExperts > 0 && !mlpOnlyLayers.contains(layer) && (layer + 1) % decoderSparseStep == 0;
    }

    public int kvDim() {
        return numKvHeads * headDim;
    }

    public int qDim() {
        return numHeads * headDim;
    }

    private static boolean bool(JsonNode c, String field) {
        JsonNode n = c.get(field);
        if (n == null || n.isNull()) {
            return false;
        }
        if (!n.isBoolean()) {
            throw new IllegalArgumentException("config.json: field '" + field + "' is not true or false: " + n);
        }
        return n.asBoolean();
    }

    private static String text(JsonNode c, String field) {
        JsonNode n = c.get(field);
        if (n == null || !n.isTextual()) {
            throw new IllegalArgumentException("config.json: field '" + field + "' is missing or not a string");
        }
        return n.asText();
    }

    private static int integer(JsonNode c, String field) {
        JsonNode n = c.get(field);
        if (n == null || !n.canConvertToInt() || !n.isIntegralNumber() || n.asInt() < 0) {
            throw new IllegalArgumentException("config.json: field '" + field
                    + "' is missing or not a non-negative integer");
        }
        return n.asInt();
    }
}
