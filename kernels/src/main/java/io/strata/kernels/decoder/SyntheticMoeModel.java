package io.strata.kernels.decoder;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.strata.core.model.DType;
import io.strata.core.model.Layout;
import io.strata.core.weights.ExpertWeights;
import io.strata.core.weights.TensorView;
import io.strata.core.weights.WeightSource;
import io.strata.kernels.cpu.FloatCodec;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A random-weight MoE checkpoint generated in off-heap memory, with real Mixtral or Qwen3-MoE tensor names and a
 * matching config.json: for tests, benchmarks and demos that need a model of a given shape but no download.
 * Weights are uniform in +-sqrt(3/fan_in) (unit-variance activations), norms near 1. Close it to free the memory.
 */
public final class SyntheticMoeModel implements AutoCloseable {
    /** What to generate. Qwen-only fields are ignored for Mixtral. */
    public record Shape(Architecture architecture, DType dtype, int vocabSize, int hiddenSize, int layers, int heads,
                        int kvHeads, int headDim, int experts, int expertsPerToken, int expertIntermediateSize,
                        int denseIntermediateSize, boolean normTopkProb, int decoderSparseStep,
                        List<Integer> mlpOnlyLayers, boolean tieWordEmbeddings) {
        public Shape {
            mlpOnlyLayers = List.copyOf(mlpOnlyLayers);
        }

        /** Mixtral proportions (8 experts, top-2, GQA 4:1) scaled to the given hidden size and depth. */
        public static Shape mixtralLike(DType dtype, int hidden, int layers) {
            int heads = Math.max(1, hidden / 128);
            return new Shape(Architecture.MIXTRAL, dtype, 32000, hidden, layers, heads, Math.max(1, heads / 4),
                    hidden / heads, 8, 2, hidden * 7 / 2, 0, true, 1, List.of(), false);
        }
    }

    private final Shape shape;
    private final ObjectNode config;
    private final Map<String, TensorView> tensors = new LinkedHashMap<>();
    private final Arena arena = Arena.ofShared();
    private final SplittableRandom rnd;

    private SyntheticMoeModel(Shape s, long seed) {
        this.shape = s;
        this.rnd = new SplittableRandom(seed);
        this.config = configFor(s);
    }

    public static SyntheticMoeModel generate(Shape shape, long seed) {
        SyntheticMoeModel m = new SyntheticMoeModel(shape, seed);
        try {
            m.fill();
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
        return m;
    }

    private static ObjectNode configFor(Shape s) {
        ObjectNode c = JsonNodeFactory.instance.objectNode();
        Architecture a = s.architecture();
        c.put("model_type", a.modelType());
        c.putArray("architectures").add(a == Architecture.MIXTRAL ? "MixtralForCausalLM" : "Qwen3MoeForCausalLM");
        c.put("vocab_size", s.vocabSize());
        c.put("hidden_size", s.hiddenSize());
        c.put("num_hidden_layers", s.layers());
        c.put("num_attention_heads", s.heads());
        c.put("num_key_value_heads", s.kvHeads());
        c.put("head_dim", s.headDim());
        c.put("rms_norm_eps", 1e-6);
        c.put("rope_theta", a == Architecture.MIXTRAL ? 1e6 : 1e4);
        c.put("num_experts_per_tok", s.expertsPerToken());
        c.put("tie_word_embeddings", s.tieWordEmbeddings());
        c.put("torch_dtype", s.dtype() == DType.F32 ? "float32" : s.dtype() == DType.BF16 ? "bfloat16" : "float16");
        if (a == Architecture.MIXTRAL) {
            c.put("num_local_experts", s.experts());
            c.put("intermediate_size", s.expertIntermediateSize());
        } else {
            c.put("num_experts", s.experts());
            c.put("moe_intermediate_size", s.expertIntermediateSize());
            c.put("intermediate_size", s.denseIntermediateSize());
            c.put("norm_topk_prob", s.normTopkProb());
            c.put("decoder_sparse_step", s.decoderSparseStep());
            var only = c.putArray("mlp_only_layers");
            s.mlpOnlyLayers().forEach(only::add);
        }
        return c;
    }

    private void fill() {
        Shape s = shape;
        Architecture a = s.architecture();
        ModelConfig cfg = ModelConfig.parse(config);
        int h = s.hiddenSize();
        int q = s.heads() * s.headDim();
        int kv = s.kvHeads() * s.headDim();
        linear("model.embed_tokens.weight", s.vocabSize(), h, 1.0);
        if (!s.tieWordEmbeddings()) {
            linear("lm_head.weight", s.vocabSize(), h, Math.sqrt(3.0 / h));
        }
        norm("model.norm.weight", h);
        for (int l = 0; l < s.layers(); l++) {
            norm(a.layer(l, "input_layernorm"), h);
            norm(a.layer(l, "post_attention_layernorm"), h);
            linear(a.layer(l, "self_attn.q_proj"), q, h, Math.sqrt(3.0 / h));
            linear(a.layer(l, "self_attn.k_proj"), kv, h, Math.sqrt(3.0 / h));
            linear(a.layer(l, "self_attn.v_proj"), kv, h, Math.sqrt(3.0 / h));
            linear(a.layer(l, "self_attn.o_proj"), h, q, Math.sqrt(3.0 / q));
            if (a.hasQkNorm()) {
                norm(a.layer(l, "self_attn.q_norm"), s.headDim());
                norm(a.layer(l, "self_attn.k_norm"), s.headDim());
            }
            if (cfg.isSparse(l)) {
                // A sharper router than fan-in scaling, so that routing decisions are far from ties.
                linear(a.router(l), s.experts(), h, 2 * Math.sqrt(3.0 / h));
                int inter = s.expertIntermediateSize();
                for (int e = 0; e < s.experts(); e++) {
                    linear(a.expert(l, e, ExpertWeights.W1), inter, h, Math.sqrt(3.0 / h));
                    linear(a.expert(l, e, ExpertWeights.W3), inter, h, Math.sqrt(3.0 / h));
                    linear(a.expert(l, e, ExpertWeights.W2), h, inter, Math.sqrt(3.0 / inter));
                }
            } else {
                int inter = s.denseIntermediateSize();
                linear(a.layer(l, "mlp.gate_proj"), inter, h, Math.sqrt(3.0 / h));
                linear(a.layer(l, "mlp.up_proj"), inter, h, Math.sqrt(3.0 / h));
                linear(a.layer(l, "mlp.down_proj"), h, inter, Math.sqrt(3.0 / inter));
            }
        }
    }

    private void linear(String name, int rows, int cols, double scale) {
        DType t = shape.dtype();
        long n = (long) rows * cols;
        MemorySegment seg = arena.allocate(n * t.byteSize(), 64);
        for (long i = 0; i < n; i++) {
            FloatCodec.set(seg, t, i, (float) ((rnd.nextDouble() * 2 - 1) * scale));
        }
        tensors.put(name, new TensorView(name, seg, t, new long[] {rows, cols}, Layout.ROW));
    }

    private void norm(String name, int n) {
        DType t = shape.dtype();
        MemorySegment seg = arena.allocate((long) n * t.byteSize(), 64);
        for (int i = 0; i < n; i++) {
            FloatCodec.set(seg, t, i, (float) (1 + 0.2 * (rnd.nextDouble() * 2 - 1)));
        }
        tensors.put(name, new TensorView(name, seg, t, new long[] {n}, Layout.ROW));
    }

    public Shape shape() {
        return shape;
    }

    /** The generated config.json. */
    public JsonNode config() {
        return config.deepCopy();
    }

    /** Every tensor by checkpoint name, row layout; valid until {@link #close()}. */
    public Map<String, TensorView> tensors() {
        return Collections.unmodifiableMap(tensors);
    }

    public long totalBytes() {
        return tensors.values().stream().mapToLong(t -> t.data().byteSize()).sum();
    }

    /** A WeightSource straight over the generated tensors (experts need no paging; closing it does nothing). */
    public WeightSource source() {
        return new InMemoryWeightSource(config, tensors);
    }

    @Override
    public void close() {
        arena.close();
    }
}
