package io.strata.kernels.decoder;

import io.strata.core.kv.KvCache;
import io.strata.core.model.ExpertProjection;
import io.strata.core.weights.ExpertWeights;
import io.strata.core.weights.WeightSource;
import io.strata.kernels.cpu.Attention;
import io.strata.kernels.cpu.Embedding;
import io.strata.kernels.cpu.MatVec;
import io.strata.kernels.cpu.RmsNorm;
import io.strata.kernels.cpu.SwiGlu;
import io.strata.kernels.cpu.TopK;
import io.strata.kernels.cpu.VecMath;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * One sequence being decoded: feeds tokens one at a time, appending each position's keys and values to its
 * {@link KvCache}. Scratch buffers are allocated once per sequence. Not thread-safe; close it to free the cache.
 */
public final class Sequence implements AutoCloseable {
    private final MoeDecoder decoder;
    private final ModelConfig cfg;
    private final WeightSource source;
    private final MatVec mv;
    private final KvCache kv;
    private final Attention attention;
    private final boolean vector;
    private int position;
    private Routing lastRouting;
    private boolean closed;
    private String failed;

    private final float[] x;
    private final float[] xn;
    private final float[] q;
    private final float[] k;
    private final float[] v;
    private final float[] att;
    private final float[] tmp;
    private final float[] moe;
    private final float[] gate;
    private final float[] up;
    private final float[] cos;
    private final float[] sin;
    private final float[] routerLogits;
    private final float[] guessNorm;
    private final float[] guessLogits;
    private final int[] predicted;
    private final float[] predictedProb;

    Sequence(MoeDecoder decoder, KvCache kv) {
        this.decoder = decoder;
        this.cfg = decoder.config();
        this.source = decoder.source();
        this.mv = decoder.matVec();
        this.kv = kv;
        this.vector = decoder.options().vectorKernels();
        this.attention = new Attention(cfg.numHeads(), cfg.numKvHeads(), cfg.headDim(), vector);
        this.position = kv.length(0);
        int h = cfg.hiddenSize();
        x = new float[h];
        xn = new float[h];
        q = new float[cfg.qDim()];
        k = new float[cfg.kvDim()];
        v = new float[cfg.kvDim()];
        att = new float[cfg.qDim()];
        tmp = new float[h];
        moe = new float[h];
        int inter = Math.max(cfg.expertIntermediateSize(), cfg.denseIntermediateSize());
        gate = new float[inter];
        up = new float[inter];
        cos = new float[cfg.headDim() / 2];
        sin = new float[cfg.headDim() / 2];
        routerLogits = new float[Math.max(1, cfg.numExperts())];
        int width = decoder.options().prefetchWidth() == 0 ? cfg.expertsPerToken() : decoder.options().prefetchWidth();
        predicted = new int[Math.clamp(width, 1, Math.max(1, cfg.numExperts()))];
        predictedProb = new float[predicted.length];
        guessNorm = new float[h];
        guessLogits = new float[routerLogits.length];
    }

    /** Positions fed so far (the next token's position). */
    public int position() {
        return position;
    }

    public KvCache kvCache() {
        return kv;
    }

    /** Routing of the most recent forward pass, or null before the first. */
    public Routing lastRouting() {
        return lastRouting;
    }

    /** Feeds {@code token} at the next position and returns the next-token logits there (a new array). */
    public float[] forward(int token) {
        return forwardStep(token, false).logits();
    }

    /**
     * As {@link #forward} but returns the whole record: logits, routing of every layer and timings ({@code prompt}
     * is false and {@code sampled} is -1: only {@link #generate} knows those).
     */
    public ForwardStep step(int token) {
        return forwardStep(token, false);
    }

    private ForwardStep forwardStep(int token, boolean prompt) {
        if (closed) {
            throw new IllegalStateException("sequence is closed");
        }
        if (failed != null) {
            throw new IllegalStateException("sequence is unusable: an earlier forward pass failed midway (" + failed
                    + "), leaving its KV cache partly written");
        }
        if (token < 0 || token >= cfg.vocabSize()) {
            throw new IllegalArgumentException("token id " + token + " outside the vocabulary [0, " + cfg.vocabSize()
                    + ")");
        }
        try {
            return forwardChecked(token, prompt);
        } catch (RuntimeException | Error e) {
            failed = String.valueOf(e.getMessage());
            throw e;
        }
    }

    private ForwardStep forwardChecked(int token, boolean prompt) {
        long start = System.nanoTime();
        long wait = 0;
        int pos = position;
        Embedding.row(decoder.embedding(), token, x);
        decoder.rope().angles(pos, cos, sin);
        int layers = cfg.numLayers();
        int[][] experts = new int[layers][];
        float[][] weights = new float[layers][];
        int hidden = cfg.hiddenSize();
        for (int l = 0; l < layers; l++) {
            MoeDecoder.LayerWeights w = decoder.layer(l);
            norm(x, w.inputNorm(), xn);
            attentionBlock(w, pos);
            VecMath.add(tmp, x, hidden);
            norm(x, w.postNorm(), xn);
            if (w.sparse()) {
                mv.apply(w.router(), xn, routerLogits);
                int topK = cfg.expertsPerToken();
                int[] idx = new int[topK];
                float[] gw = new float[topK];
                TopK.route(routerLogits, cfg.numExperts(), topK, cfg.normTopkProb(), idx, gw);
                if (decoder.options().speculativePrefetch()) {
                    prefetchNext(l);
                }
                experts[l] = idx;
                weights[l] = gw;
                source.observeRouting(l, idx.clone(), gw.clone());
                java.util.Arrays.fill(moe, 0f);
                for (int j = 0; j < topK; j++) {
                    long t0 = System.nanoTime();
                    try (ExpertWeights e = source.expert(l, idx[j])) {
                        wait += System.nanoTime() - t0;
                        SwiGlu.apply(mv, e.tensor(ExpertProjection.GATE), e.tensor(ExpertProjection.UP),
                                e.tensor(ExpertProjection.DOWN), xn, gate, up, tmp);
                    }
                    VecMath.axpy(gw[j], tmp, moe, hidden);
                }
                VecMath.add(moe, x, hidden);
            } else {
                SwiGlu.apply(mv, w.denseGate(), w.denseUp(), w.denseDown(), xn, gate, up, tmp);
                VecMath.add(tmp, x, hidden);
            }
        }
        norm(x, decoder.finalNorm(), xn);
        float[] logits = new float[cfg.vocabSize()];
        mv.apply(decoder.lmHead(), xn, logits);
        position = pos + 1;
        lastRouting = new Routing(pos, experts, weights);
        return new ForwardStep(pos, token, prompt, -1, logits, lastRouting, System.nanoTime() - start, wait);
    }

    /** Attention of layer w at pos on xn; leaves the o_proj output in tmp. */
    private void attentionBlock(MoeDecoder.LayerWeights w, int pos) {
        mv.apply(w.q(), xn, q);
        mv.apply(w.k(), xn, k);
        mv.apply(w.v(), xn, v);
        addBias(w.qBias(), q);
        addBias(w.kBias(), k);
        addBias(w.vBias(), v);
        int hd = cfg.headDim();
        if (w.qNorm() != null) {
            for (int h = 0; h < cfg.numHeads(); h++) {
                norm(q, h * hd, w.qNorm(), q, h * hd);
            }
            for (int h = 0; h < cfg.numKvHeads(); h++) {
                norm(k, h * hd, w.kNorm(), k, h * hd);
            }
        }
        decoder.rope().apply(q, 0, cfg.numHeads(), cos, sin);
        decoder.rope().apply(k, 0, cfg.numKvHeads(), cos, sin);
        kv.append(w.index(), k, v);
        attention.attend(kv, w.index(), q, att);
        mv.apply(w.o(), att, tmp);
    }

    /**
     * Speculative gating: the next sparse layer's router applied to this layer's post-attention residual (after
     * the next layer's post-attention norm) predicts which experts it will want; the source may start loading
     * them while this layer's experts run. Only a hint: results never depend on it.
     */
    private void prefetchNext(int l) {
        int next = l + 1;
        if (next >= cfg.numLayers() || !decoder.layer(next).sparse()) {
            return;
        }
        MoeDecoder.LayerWeights n = decoder.layer(next);
        norm(x, n.postNorm(), guessNorm);
        mv.apply(n.router(), guessNorm, guessLogits);
        int width = predicted.length;
        TopK.select(guessLogits, cfg.numExperts(), width, predicted, predictedProb);
        source.prefetch(next, java.util.Arrays.copyOf(predicted, width));
    }

    private void norm(float[] in, float[] weight, float[] out) {
        norm(in, 0, weight, out, 0);
    }

    /** RMSNorm of in[inOff, inOff + weight.length) into out[outOff..] (may be in place). */
    private void norm(float[] in, int inOff, float[] weight, float[] out, int outOff) {
        if (vector) {
            RmsNorm.apply(in, inOff, weight, cfg.rmsNormEps(), out, outOff, weight.length);
        } else {
            RmsNorm.applyScalar(in, inOff, weight, cfg.rmsNormEps(), out, outOff, weight.length);
        }
    }

    private static void addBias(float[] bias, float[] out) {
        if (bias != null) {
            for (int i = 0; i < bias.length; i++) {
                out[i] += bias[i];
            }
        }
    }

    /**
     * Feeds {@code prompt}, then samples up to {@code maxNew} tokens, feeding each back except the last. Stops
     * early after sampling a token in {@code stopTokens} (which is included in the result). The listener sees
     * every forward pass. Returns the sampled tokens.
     */
    public List<Integer> generate(List<Integer> prompt, int maxNew, Sampler sampler, Set<Integer> stopTokens,
                                  StepListener listener) {
        if (prompt.isEmpty()) {
            throw new IllegalArgumentException("generate needs a non-empty prompt");
        }
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < prompt.size(); i++) {
            boolean last = i == prompt.size() - 1;
            ForwardStep s = forwardStep(prompt.get(i), true);
            if (last && maxNew > 0) {
                int next = sampler.sample(s.logits());
                s = new ForwardStep(s.position(), s.token(), true, next, s.logits(), s.routing(), s.nanos(),
                        s.expertWaitNanos());
                out.add(next);
            }
            listener.onStep(s);
        }
        while (out.size() < maxNew && !stopTokens.contains(out.getLast())) {
            ForwardStep s = forwardStep(out.getLast(), false);
            int next = sampler.sample(s.logits());
            out.add(next);
            listener.onStep(new ForwardStep(s.position(), s.token(), false, next, s.logits(), s.routing(), s.nanos(),
                    s.expertWaitNanos()));
        }
        return out;
    }

    public List<Integer> generate(List<Integer> prompt, int maxNew, Sampler sampler) {
        return generate(prompt, maxNew, sampler, Set.of(), StepListener.NONE);
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            kv.close();
        }
    }
}
