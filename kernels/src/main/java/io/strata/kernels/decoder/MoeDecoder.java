package io.strata.kernels.decoder;

import io.strata.core.model.ModelFamily;
import io.strata.core.model.ModelTensor;
import io.strata.core.kv.KvCache;
import io.strata.core.weights.TensorView;
import io.strata.core.weights.WeightSource;
import io.strata.kernels.cpu.Embedding;
import io.strata.kernels.cpu.MatVec;
import io.strata.kernels.quant.QuantMatVec;
import io.strata.kernels.cpu.Rope;
import java.util.List;
import java.util.Set;

/**
 * Reference decoder for Mixtral and Qwen3-MoE checkpoints. Reads config.json and every weight through a
 * {@link WeightSource} (dense tensors once, experts per use, pinned by try-with-resources) and keeps attention
 * state in a per-sequence {@link KvCache}. Immutable after construction and shareable between sequences; a
 * {@link Sequence} itself is single-threaded.
 *
 * <pre>{@code
 * MoeDecoder decoder = new MoeDecoder(source, DecoderOptions.defaults());
 * try (Sequence s = decoder.newSequence()) {
 *     List<Integer> out = s.generate(prompt, 32, Sampler.greedy(), step -> log(step));
 * }
 * }</pre>
 * The decoder never closes the source.
 */
public final class MoeDecoder {
    private final WeightSource source;
    private final ModelConfig config;
    private final DecoderOptions options;
    private final MatVec matVec;
    private final Rope rope;
    private final TensorView embedding;
    private final TensorView lmHead;
    private final float[] finalNorm;
    private final LayerWeights[] layers;

    public MoeDecoder(WeightSource source, DecoderOptions options) {
        this.source = source;
        this.options = options;
        this.config = ModelConfig.parse(source.config());
        MatVec plain = options.vectorKernels() ? MatVec.vector(options.threads()) : MatVec.scalar();
        // block-quantised weights (ggml types) go to the quantised kernel, read straight from their blocks
        this.matVec = new DTypeMatVec(plain, MatVec.parallel(QuantMatVec.of(options.quantArithmetic()),
                options.threads()));
        this.rope = new Rope(config.headDim(), config.ropeTheta(), config.ropeInterleaved());
        ModelFamily f = config.family();
        this.embedding = dense(f.tensorName(ModelTensor.EMBEDDING, 0), config.vocabSize(), config.hiddenSize());
        String lmHeadName = f.tensorName(ModelTensor.LM_HEAD, 0);
        this.lmHead = !config.tieWordEmbeddings() && source.hasTensor(lmHeadName)
                ? dense(lmHeadName, config.vocabSize(), config.hiddenSize()) : embedding;
        this.finalNorm = norm(f.tensorName(ModelTensor.FINAL_NORM, 0), config.hiddenSize());
        this.layers = new LayerWeights[config.numLayers()];
        for (int l = 0; l < layers.length; l++) {
            layers[l] = loadLayer(l);
        }
    }

    public MoeDecoder(WeightSource source) {
        this(source, DecoderOptions.defaults());
    }

    public ModelConfig config() {
        return config;
    }

    public DecoderOptions options() {
        return options;
    }

    public WeightSource source() {
        return source;
    }

    /** A new sequence over {@code cache}, which it takes ownership of (closed with the sequence). */
    public Sequence newSequence(KvCache cache) {
        if (cache.kvDim() != config.kvDim()) {
            throw new IllegalArgumentException("KV cache kvDim " + cache.kvDim() + " does not match the model's "
                    + config.kvDim() + " (num_key_value_heads x head_dim)");
        }
        return new Sequence(this, cache);
    }

    /** A new sequence over an in-heap KV cache. */
    public Sequence newSequence() {
        return newSequence(new HeapKvCache(config.numLayers(), config.kvDim(), options.kvPageTokens()));
    }

    /** Convenience: generate on a fresh heap-cached sequence. */
    public List<Integer> generate(List<Integer> prompt, int maxNew, Sampler sampler, StepListener listener) {
        try (Sequence s = newSequence()) {
            return s.generate(prompt, maxNew, sampler, Set.of(), listener);
        }
    }

    MatVec matVec() {
        return matVec;
    }

    Rope rope() {
        return rope;
    }

    TensorView embedding() {
        return embedding;
    }

    TensorView lmHead() {
        return lmHead;
    }

    float[] finalNorm() {
        return finalNorm;
    }

    LayerWeights layer(int l) {
        return layers[l];
    }

    /** Dense weights of one decoder layer; expert weights are not here but fetched per use. */
    record LayerWeights(int index, float[] inputNorm, float[] postNorm, TensorView q, TensorView k, TensorView v,
                        TensorView o, float[] qBias, float[] kBias, float[] vBias, float[] qNorm, float[] kNorm,
                        TensorView router, TensorView denseGate, TensorView denseUp, TensorView denseDown) {
        boolean sparse() {
            return router != null;
        }
    }

    private LayerWeights loadLayer(int l) {
        ModelFamily a = config.family();
        int h = config.hiddenSize();
        TensorView router = null;
        TensorView gate = null;
        TensorView up = null;
        TensorView down = null;
        if (config.isSparse(l)) {
            router = dense(a.tensorName(ModelTensor.ROUTER, l), config.numExperts(), h);
        } else {
            int inter = config.denseIntermediateSize();
            gate = dense(a.tensorName(ModelTensor.DENSE_GATE, l), inter, h);
            up = dense(a.tensorName(ModelTensor.DENSE_UP, l), inter, h);
            down = dense(a.tensorName(ModelTensor.DENSE_DOWN, l), h, inter);
        }
        return new LayerWeights(l,
                norm(a.tensorName(ModelTensor.INPUT_NORM, l), h),
                norm(a.tensorName(ModelTensor.POST_NORM, l), h),
                dense(a.tensorName(ModelTensor.ATTN_Q, l), config.qDim(), h),
                dense(a.tensorName(ModelTensor.ATTN_K, l), config.kvDim(), h),
                dense(a.tensorName(ModelTensor.ATTN_V, l), config.kvDim(), h),
                dense(a.tensorName(ModelTensor.ATTN_O, l), h, config.qDim()),
                bias(a.tensorName(ModelTensor.ATTN_Q_BIAS, l), config.qDim()),
                bias(a.tensorName(ModelTensor.ATTN_K_BIAS, l), config.kvDim()),
                bias(a.tensorName(ModelTensor.ATTN_V_BIAS, l), config.kvDim()),
                a.hasQkNorm() ? norm(a.tensorName(ModelTensor.Q_NORM, l), config.headDim()) : null,
                a.hasQkNorm() ? norm(a.tensorName(ModelTensor.K_NORM, l), config.headDim()) : null,
                router, gate, up, down);
    }

    private TensorView dense(String name, long rows, long cols) {
        TensorView t = source.dense(name);
        long[] s = t.shape();
        if (s.length != 2 || s[0] != rows || s[1] != cols) {
            throw new IllegalArgumentException(name + ": shape " + java.util.Arrays.toString(s) + ", config expects ["
                    + rows + ", " + cols + "]");
        }
        return t;
    }

    private float[] norm(String name, int size) {
        TensorView t = source.dense(name);
        if (t.elementCount() != size) {
            throw new IllegalArgumentException(name + ": " + t.elementCount() + " elements, config expects " + size);
        }
        return Embedding.vector(t);
    }

    private float[] bias(String name, int size) {
        return source.hasTensor(name) ? norm(name, size) : null;
    }
}
