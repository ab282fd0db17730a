package io.strata.kernels.decoder;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.strata.core.model.DType;
import io.strata.core.model.Layout;
import io.strata.core.weights.TensorView;
import io.strata.kernels.cpu.FloatCodec;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * Builds a small random checkpoint in memory with Mixtral or Qwen3-MoE tensor names (sizes chosen to be awkward
 * for the vector width), ready to serve through {@link MapWeightSource}.
 */
final class RandomMoeModel {
    final ObjectNode config = JsonNodeFactory.instance.objectNode();
    final Map<String, TensorView> tensors = new LinkedHashMap<>();
    final Arena arena = Arena.ofShared();
    private final DType dtype;
    private final Random rnd;

    /**
     * @param qwenSparseVariant for Qwen3-MoE: true = renormalised top-k and decoder_sparse_step 2; false = plain
     *                          top-k probabilities, layer 1 dense via mlp_only_layers, tied embeddings
     */
    RandomMoeModel(Architecture arch, DType dtype, long seed, boolean qwenSparseVariant) {
        this.dtype = dtype;
        this.rnd = new Random(seed);
        int vocab = 97;
        int hidden = 48;
        int layers = 3;
        int heads = 4;
        int kvHeads = 2;
        int headDim = arch == Architecture.MIXTRAL ? 12 : 16;
        int experts = 6;
        int inter = 40;
        int denseInter = 56;
        boolean tied = arch == Architecture.QWEN3_MOE && !qwenSparseVariant;
        config.put("model_type", arch.modelType());
        config.put("vocab_size", vocab);
        config.put("hidden_size", hidden);
        config.put("num_hidden_layers", layers);
        config.put("num_attention_heads", heads);
        config.put("num_key_value_heads", kvHeads);
        config.put("head_dim", headDim);
        config.put("rms_norm_eps", 1e-6);
        config.put("rope_theta", arch == Architecture.MIXTRAL ? 1e6 : 1e4);
        config.put("num_experts_per_tok", arch == Architecture.MIXTRAL ? 2 : 3);
        config.put("tie_word_embeddings", tied);
        if (arch == Architecture.MIXTRAL) {
            config.put("num_local_experts", experts);
            config.put("intermediate_size", inter);
        } else {
            config.put("num_experts", experts);
            config.put("moe_intermediate_size", inter);
            config.put("intermediate_size", denseInter);
            config.put("norm_topk_prob", qwenSparseVariant);
            config.put("decoder_sparse_step", qwenSparseVariant ? 2 : 1);
            config.putArray("mlp_only_layers").add(qwenSparseVariant ? 99 : 1);
        }
        ModelConfig cfg = ModelConfig.parse(config);
        add("model.embed_tokens.weight", 1.0, vocab, hidden);
        if (!tied) {
            add("lm_head.weight", Math.sqrt(3.0 / hidden), vocab, hidden);
        }
        norm("model.norm.weight", hidden);
        for (int l = 0; l < layers; l++) {
            norm(arch.layer(l, "input_layernorm"), hidden);
            norm(arch.layer(l, "post_attention_layernorm"), hidden);
            add(arch.layer(l, "self_attn.q_proj"), Math.sqrt(3.0 / hidden), heads * headDim, hidden);
            add(arch.layer(l, "self_attn.k_proj"), Math.sqrt(3.0 / hidden), kvHeads * headDim, hidden);
            add(arch.layer(l, "self_attn.v_proj"), Math.sqrt(3.0 / hidden), kvHeads * headDim, hidden);
            add(arch.layer(l, "self_attn.o_proj"), Math.sqrt(3.0 / (heads * headDim)), hidden, heads * headDim);
            if (arch.hasQkNorm()) {
                norm(arch.layer(l, "self_attn.q_norm"), headDim);
                norm(arch.layer(l, "self_attn.k_norm"), headDim);
            }
            if (cfg.isSparse(l)) {
                add(arch.router(l), 2 * Math.sqrt(3.0 / hidden), experts, hidden);
                for (int e = 0; e < experts; e++) {
                    add(arch.expert(l, e, "w1"), Math.sqrt(3.0 / hidden), inter, hidden);
                    add(arch.expert(l, e, "w3"), Math.sqrt(3.0 / hidden), inter, hidden);
                    add(arch.expert(l, e, "w2"), Math.sqrt(3.0 / inter), hidden, inter);
                }
            } else {
                add(arch.layer(l, "mlp.gate_proj"), Math.sqrt(3.0 / hidden), denseInter, hidden);
                add(arch.layer(l, "mlp.up_proj"), Math.sqrt(3.0 / hidden), denseInter, hidden);
                add(arch.layer(l, "mlp.down_proj"), Math.sqrt(3.0 / denseInter), hidden, denseInter);
            }
        }
    }

    MapWeightSource source() {
        return new MapWeightSource(config, tensors, arena);
    }

    private void add(String name, double scale, int rows, int cols) {
        MemorySegment seg = arena.allocate((long) rows * cols * dtype.byteSize(), 64);
        for (long i = 0; i < (long) rows * cols; i++) {
            FloatCodec.set(seg, dtype, i, (float) ((rnd.nextDouble() * 2 - 1) * scale));
        }
        tensors.put(name, new TensorView(name, seg, dtype, new long[] {rows, cols}, Layout.ROW));
    }

    private void norm(String name, int n) {
        MemorySegment seg = arena.allocate((long) n * dtype.byteSize(), 64);
        for (int i = 0; i < n; i++) {
            FloatCodec.set(seg, dtype, i, (float) (1 + 0.2 * rnd.nextGaussian()));
        }
        tensors.put(name, new TensorView(name, seg, dtype, new long[] {n}, Layout.ROW));
    }
}
