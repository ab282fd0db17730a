package io.strata.kernels.decoder;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.strata.core.model.DType;
import io.strata.core.model.ExpertProjection;
import io.strata.core.model.ModelFamily;
import io.strata.core.model.ModelTensor;
import io.strata.core.model.Layout;
import io.strata.core.weights.TensorView;
import io.strata.core.weights.InMemoryWeightSource;
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
    public record Shape(ModelFamily family, DType dtype, int vocabSize, int hiddenSize, int layers, int heads,
                        int kvHeads, int headDim, int experts, int expertsPerToken, int expertIntermediateSize,
                        int denseIntermediateSize, boolean normTopkProb, int decoderSparseStep,
                        List<Integer> mlpOnlyLayers, boolean tieWordEmbeddings) {
        public Shape {
            mlpOnlyLayers = List.copyOf(mlpOnlyLayers);
        }

        /** Mixtral proportions (8 experts, top-2, GQA 4:1) scaled to the given hidden size and depth. */
        public static Shape mixtralLike(DType dtype, int hidden, int layers) {
            int heads = Math.max(1, hidden / 128);
            return new Shape(ModelFamily.MIXTRAL, dtype, 32000, hidden, layers, heads, Math.max(1, heads / 4),
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
        ModelFamily a = s.family();
        c.put("model_type", a.modelType());
        c.putArray("architectures").add(a.hfArchitecture());
        c.put("vocab_size", s.vocabSize());
        c.put("hidden_size", s.hiddenSize());
        c.put("num_hidden_layers", s.layers());
        c.put("num_attention_heads", s.heads());
        c.put("num_key_value_heads", s.kvHeads());
        c.put("head_dim", s.headDim());
        c.put("rms_norm_eps", 1e-6);
        c.put("rope_theta", a.defaultRopeTheta());
        c.put("num_experts_per_tok", s.expertsPerToken());
        c.put("tie_word_embeddings", s.tieWordEmbeddings());
        c.put("torch_dtype", s.dtype() == DType.F32 ? "float32" : s.dtype() == DType.BF16 ? "bfloat16" : "float16");
        c.put(a.expertCountKey(), s.experts());
        c.put(a.expertFfnKey(), s.expertIntermediateSize());
        if (a != ModelFamily.MIXTRAL) {
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
        ModelFamily a = s.family();
        ModelConfig cfg = ModelConfig.parse(config);
        int h = s.hiddenSize();
        int q = s.heads() * s.headDim();
        int kv = s.kvHeads() * s.headDim();
        linear(a.tensorName(ModelTensor.EMBEDDING, 0), s.vocabSize(), h, 1.0);
        if (!s.tieWordEmbeddings()) {
            linear(a.tensorName(ModelTensor.LM_HEAD, 0), s.vocabSize(), h, Math.sqrt(3.0 / h));
        }
        norm(a.tensorName(ModelTensor.FINAL_NORM, 0), h);
        for (int l = 0; l < s.layers(); l++) {
            norm(a.tensorName(ModelTensor.INPUT_NORM, l), h);
            norm(a.tensorName(ModelTensor.POST_NORM, l), h);
            linear(a.tensorName(ModelTensor.ATTN_Q, l), q, h, Math.sqrt(3.0 / h));
            linear(a.tensorName(ModelTensor.ATTN_K, l), kv, h, Math.sqrt(3.0 / h));
            linear(a.tensorName(ModelTensor.ATTN_V, l), kv, h, Math.sqrt(3.0 / h));
            linear(a.tensorName(ModelTensor.ATTN_O, l), h, q, Math.sqrt(3.0 / q));
            if (a.hasQkNorm()) {
                norm(a.tensorName(ModelTensor.Q_NORM, l), s.headDim());
                norm(a.tensorName(ModelTensor.K_NORM, l), s.headDim());
            }
            if (cfg.isSparse(l)) {
                // A sharper router than fan-in scaling, so that routing decisions are far from ties.
                linear(a.tensorName(ModelTensor.ROUTER, l), s.experts(), h, 2 * Math.sqrt(3.0 / h));
                int inter = s.expertIntermediateSize();
                for (int e = 0; e < s.experts(); e++) {
                    linear(a.expertTensorName(l, e, ExpertProjection.GATE), inter, h, Math.sqrt(3.0 / h));
                    linear(a.expertTensorName(l, e, ExpertProjection.UP), inter, h, Math.sqrt(3.0 / h));
                    linear(a.expertTensorName(l, e, ExpertProjection.DOWN), h, inter, Math.sqrt(3.0 / inter));
                }
            } else {
                int inter = s.denseIntermediateSize();
                linear(a.tensorName(ModelTensor.DENSE_GATE, l), inter, h, Math.sqrt(3.0 / h));
                linear(a.tensorName(ModelTensor.DENSE_UP, l), inter, h, Math.sqrt(3.0 / h));
                linear(a.tensorName(ModelTensor.DENSE_DOWN, l), h, inter, Math.sqrt(3.0 / inter));
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
