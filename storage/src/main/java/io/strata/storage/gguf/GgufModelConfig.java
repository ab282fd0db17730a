package io.strata.storage.gguf;

import io.strata.core.model.ModelFamily;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.strata.storage.safetensors.CheckpointException;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The Hugging Face {@code config.json} a GGUF file's metadata stands for, so the decoder reads GGUF models with
 * the config keys it already knows. llama.cpp keeps hyper-parameters under {@code <arch>.*} keys
 * ({@code llama.block_count}, {@code qwen3moe.expert_feed_forward_length} ...). Mapped: {@code llama} with
 * experts (Mixtral) to {@code model_type: mixtral}, dense {@code llama} to {@code llama}, {@code qwen3moe} to
 * {@code qwen3_moe}, {@code qwen2moe} to {@code qwen2_moe}, {@code olmoe} to {@code olmoe}. Values llama.cpp
 * defaults when absent are written explicitly (rope_theta 10000), so the HF default of another family can never
 * slip in. A missing required key is a one-line error naming the file and the key.
 */
public final class GgufModelConfig {
    private GgufModelConfig() {
    }

    public static ObjectNode hfConfig(GgufFile file) {
        GgufMetadata m = file.metadata();
        String src = file.path().toString();
        String arch = m.string("general.architecture");
        Keys k = new Keys(m, arch, src);
        ObjectNode c = JsonNodeFactory.instance.objectNode();
        long experts = k.optional("expert_count").orElse(0);
        ModelFamily family = ModelFamily.fromGgufArchitecture(arch, experts > 0);
        boolean denseLlama = family == ModelFamily.OTHER && arch.equals("llama");
        if (family == ModelFamily.OTHER && !denseLlama) {
            throw new CheckpointException(src + ": metadata 'general.architecture': '" + arch
                    + "' is not supported (supported: " + String.join(", ", ModelFamily.ggufArchitectures()) + ")");
        }
        String modelType = denseLlama ? "llama" : family.modelType();
        c.put("model_type", modelType);
        long hidden = k.required("embedding_length");
        long heads = k.required("attention.head_count");
        c.put("vocab_size", vocabSize(file, k));
        c.put("hidden_size", hidden);
        c.put("num_hidden_layers", k.required("block_count"));
        c.put("num_attention_heads", heads);
        c.put("num_key_value_heads", k.optional("attention.head_count_kv").orElse(heads));
        long headDim = k.optional("attention.key_length").orElse(heads == 0 ? 0 : hidden / heads);
        OptionalLong valueLength = k.optional("attention.value_length");
        if (valueLength.isPresent() && valueLength.getAsLong() != headDim) {
            throw new CheckpointException(src + ": metadata '" + arch + ".attention.value_length' is "
                    + valueLength.getAsLong() + " but the key length is " + headDim
                    + ": different key and value head sizes are not supported");
        }
        c.put("head_dim", headDim);
        c.put("rms_norm_eps", k.real("attention.layer_norm_rms_epsilon"));
        c.put("rope_theta", m.optionalReal(arch + ".rope.freq_base").orElse(10000.0));
        k.optional("context_length").ifPresent(v -> c.put("max_position_embeddings", v));
        c.put("tie_word_embeddings", file.findTensor("output.weight").isEmpty());
        if (arch.equals("llama")) {
            c.put("rope_interleaved", true); // q/k rows kept as llama.cpp stored them (permuted for interleaved RoPE)
        }
        if (denseLlama) {
            c.put("intermediate_size", k.required("feed_forward_length"));
            return c;
        }
        c.put(family.expertCountKey(), experts);
        c.put("num_experts_per_tok", k.required("expert_used_count"));
        if (family.expertFfnKey().equals("intermediate_size")) {
            c.put("intermediate_size", k.optional("expert_feed_forward_length")
                    .orElseGet(() -> k.required("feed_forward_length")));
        } else {
            c.put(family.expertFfnKey(), k.required("expert_feed_forward_length"));
            k.optional("feed_forward_length").ifPresent(v -> c.put("intermediate_size", v));
        }
        if (family.renormalise() == ModelFamily.Renormalise.CONFIG) {
            c.put("norm_topk_prob", m.optionalBool(arch + ".expert_weights_norm")
                    .orElse(family.ggufRenormalisesByDefault()));
        }
        if (family.hasSharedExpert()) {
            c.put("shared_expert_intermediate_size", k.required("expert_shared_feed_forward_length"));
        }
        return c;
    }

    /** {@code <arch>.vocab_size}, else the tokenizer's token count, else the embedding table's rows. */
    private static long vocabSize(GgufFile file, Keys k) {
        OptionalLong v = k.optional("vocab_size");
        if (v.isPresent()) {
            return v.getAsLong();
        }
        Optional<GgufArray> tokens = file.metadata().optionalArray("tokenizer.ggml.tokens");
        if (tokens.isPresent()) {
            return tokens.get().size();
        }
        return file.findTensor("token_embd.weight").map(t -> t.dim(0)).orElseThrow(() ->
                new CheckpointException(file.path() + ": the vocabulary size is unknown: no metadata '" + k.arch
                        + ".vocab_size', no 'tokenizer.ggml.tokens' and no tensor 'token_embd.weight'"));
    }

    /** {@code <arch>.<name>} lookups. */
    private record Keys(GgufMetadata m, String arch, String src) {
        long required(String name) {
            long v = m.integer(arch + "." + name);
            if (v < 0) {
                throw new CheckpointException(src + ": metadata '" + arch + "." + name + "' is negative: " + v);
            }
            return v;
        }

        OptionalLong optional(String name) {
            return m.optionalInteger(arch + "." + name);
        }

        double real(String name) {
            return m.real(arch + "." + name);
        }
    }
}
