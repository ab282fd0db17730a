package io.strata.kernels.decoder;

import io.strata.core.kv.KvCache;
import io.strata.core.model.ExpertProjection;
import io.strata.core.weights.ExpertWeights;
import io.strata.core.weights.TensorView;
import io.strata.core.weights.WeightSource;
import io.strata.kernels.cpu.Attention;
import io.strata.kernels.cpu.Embedding;
import io.strata.kernels.cpu.MatVec;
import io.strata.kernels.cpu.MatVecGroup;
import io.strata.kernels.cpu.RmsNorm;
import io.strata.kernels.cpu.TopK;
import io.strata.kernels.cpu.VecMath;
import io.strata.kernels.cpu.WorkerTeam;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * One sequence being decoded, appending each position's keys and values to its {@link KvCache}. Positions go
 * through the layers in batches: a decode step is a batch of one, a prompt ({@link #prefill}) a batch of up to
 * {@link DecoderOptions#prefillBatch()} positions that passes over each dense weight once
 * ({@link MatVec#applyBatch}), reads each routed expert once for all the positions routed to it, and attends
 * causally (position p over positions up to p). Every position gets exactly the float operations a
 * token-by-token pass gives it, so batched and token-by-token logits are bit-identical. Scratch buffers grow to
 * the largest batch and are reused; not thread-safe; close it to free the cache.
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

    private final int[] one = new int[1];
    /** Independent matvecs handed to the kernel together (see {@link MatVecGroup}); emptied after each use. */
    private final MatVecGroup group = new MatVecGroup();
    private final float[] lanes = new float[VecMath.lanes()];
    private final float[] kRow;
    private final float[] vRow;
    private final float[] routerLogits;
    private final float[] moe;
    private final float[] guessNorm;
    private final float[] guessLogits;
    private final int[] predicted;
    private final float[] predictedProb;
    /** Per expert of a layer: positions routed to it this batch, as (position * topK + slot). */
    private final int[][] routed;
    private final int[] routedCount;
    private final int[] expertOrder;
    private Batch b;
    /**
     * A prompt's attention runs its positions over the decoder's worker team (each position's attention is
     * independent once the batch's keys and values are appended; the cache's pages are only read). Why: one thread
     * attending 128 positions was a tenth of a two-thread Q4_K_M prompt while the other thread waited.
     */
    private final WorkerTeam team;
    private final AttendTask attendTask;

    Sequence(MoeDecoder decoder, KvCache kv) {
        this.decoder = decoder;
        this.cfg = decoder.config();
        this.source = decoder.source();
        this.mv = decoder.matVec();
        this.kv = kv;
        this.vector = decoder.options().vectorKernels();
        this.attention = new Attention(cfg.numHeads(), cfg.numKvHeads(), cfg.headDim(), vector);
        int threads = decoder.options().threads();
        this.team = threads > 1 ? WorkerTeam.shared(threads) : null;
        this.attendTask = new AttendTask();
        this.position = kv.length(0);
        int h = cfg.hiddenSize();
        kRow = new float[cfg.kvDim()];
        vRow = new float[cfg.kvDim()];
        int experts = Math.max(1, cfg.numExperts());
        routerLogits = new float[experts];
        moe = new float[h];
        int width = decoder.options().prefetchWidth() == 0 ? cfg.expertsPerToken() : decoder.options().prefetchWidth();
        predicted = new int[Math.clamp(width, 1, experts)];
        predictedProb = new float[predicted.length];
        guessNorm = new float[h];
        guessLogits = new float[experts];
        routed = new int[experts][0];
        routedCount = new int[experts];
        expertOrder = new int[experts];
        b = new Batch(cfg, 1);
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

    /**
     * Feeds {@code tokens} at the next positions in batches and returns the next-token logits after the last
     * (a new array); only the last position's logits are computed.
     */
    public float[] prefill(int[] tokens) {
        List<ForwardStep> steps = prefill(tokens, true, false);
        return steps.getLast().logits();
    }

    /**
     * As {@link #prefill(int[])} but returns every position's record, logits included, as {@link #step} would
     * have (prompt true, sampled -1). A batch's wall time and expert wait are shared out evenly over its
     * positions.
     */
    public List<ForwardStep> prefillSteps(int[] tokens) {
        return prefill(tokens, true, true);
    }

    private ForwardStep forwardStep(int token, boolean prompt) {
        one[0] = token;
        return prefill(one, prompt, true).getFirst();
    }

    private List<ForwardStep> prefill(int[] tokens, boolean prompt, boolean every) {
        if (closed) {
            throw new IllegalStateException("sequence is closed");
        }
        if (failed != null) {
            throw new IllegalStateException("sequence is unusable: an earlier forward pass failed midway (" + failed
                    + "), leaving its KV cache partly written");
        }
        if (tokens.length == 0) {
            throw new IllegalArgumentException("no tokens to feed");
        }
        for (int token : tokens) {
            if (token < 0 || token >= cfg.vocabSize()) {
                throw new IllegalArgumentException("token id " + token + " outside the vocabulary [0, "
                        + cfg.vocabSize() + ")");
            }
        }
        List<ForwardStep> out = new ArrayList<>(tokens.length);
        int batch = decoder.options().prefillBatch();
        try {
            for (int off = 0; off < tokens.length; off += batch) {
                int n = Math.min(batch, tokens.length - off);
                forwardBatch(tokens, off, n, prompt, every || off + n == tokens.length, out);
            }
        } catch (RuntimeException | Error e) {
            failed = String.valueOf(e.getMessage());
            throw e;
        }
        return out;
    }

    /**
     * Positions [off, off + n) of tokens through every layer; appends one record per position to out, with
     * logits for every position when {@code every}, else for the last only.
     */
    private void forwardBatch(int[] tokens, int off, int n, boolean prompt, boolean every, List<ForwardStep> out) {
        long start = System.nanoTime();
        if (b.capacity < n) {
            b = new Batch(cfg, n);
        }
        Batch s = b;
        int pos0 = position;
        int h = cfg.hiddenSize();
        for (int t = 0; t < n; t++) {
            Embedding.row(decoder.embedding(), tokens[off + t], s.x, t * h);
            decoder.rope().angles(pos0 + t, s.cos[t], s.sin[t]);
        }
        int layers = cfg.numLayers();
        int[][][] experts = new int[n][layers][];
        float[][][] weights = new float[n][layers][];
        long wait = 0;
        for (int l = 0; l < layers; l++) {
            MoeDecoder.LayerWeights w = decoder.layer(l);
            for (int t = 0; t < n; t++) {
                norm(s.x, t * h, w.inputNorm(), s.xn, t * h);
            }
            attentionBlock(w, pos0, n);
            for (int t = 0; t < n; t++) {
                VecMath.add(s.tmp, t * h, s.x, t * h, h);
                norm(s.x, t * h, w.postNorm(), s.xn, t * h);
            }
            if (w.sparse()) {
                wait += moeBlock(w, l, n, experts, weights);
            } else {
                int inter = Math.toIntExact(w.denseGate().rows());
                mv.applyGateUpBatch(w.denseGate(), w.denseUp(), s.xn, 0, h, n, s.gate, s.up, 0, inter, 0, inter);
                mv.applyBatch(w.denseDown(), s.gate, 0, inter, n, s.tmp, 0, h, 0, h);
                for (int t = 0; t < n; t++) {
                    VecMath.add(s.tmp, t * h, s.x, t * h, h);
                }
            }
        }
        int vocab = cfg.vocabSize();
        float[][] logits = new float[n][];
        if (every) {
            for (int t = 0; t < n; t++) {
                norm(s.x, t * h, decoder.finalNorm(), s.xn, t * h);
            }
            float[] all = n == 1 ? new float[vocab] : new float[n * vocab];
            mv.applyBatch(decoder.lmHead(), s.xn, 0, h, n, all, 0, vocab, 0, vocab);
            for (int t = 0; t < n; t++) {
                logits[t] = n == 1 ? all : Arrays.copyOfRange(all, t * vocab, (t + 1) * vocab);
            }
        } else {
            norm(s.x, (n - 1) * h, decoder.finalNorm(), s.xn, 0);
            logits[n - 1] = new float[vocab];
            mv.apply(decoder.lmHead(), s.xn, 0, logits[n - 1], 0);
        }
        position = pos0 + n;
        long nanos = System.nanoTime() - start;
        for (int t = 0; t < n; t++) {
            Routing r = new Routing(pos0 + t, experts[t], weights[t]);
            lastRouting = r;
            out.add(new ForwardStep(pos0 + t, tokens[off + t], prompt, -1, logits[t], r, share(nanos, t, n),
                    share(wait, t, n)));
        }
    }

    /** Part t of n of a batch's total, the remainder going to the last so the parts add up. */
    private static long share(long total, int t, int n) {
        return t < n - 1 ? total / n : total - total / n * (n - 1);
    }

    /** Attention of layer w for the batch's n positions on xn; leaves the o_proj outputs in tmp. */
    private void attentionBlock(MoeDecoder.LayerWeights w, int pos0, int n) {
        Batch s = b;
        int h = cfg.hiddenSize();
        int qd = cfg.qDim();
        int kvd = cfg.kvDim();
        int hd = cfg.headDim();
        try { // q, k and v read one input: one loop of the team for the three
            mv.applyGroup(group.clear()
                    .add(w.q(), s.xn, 0, h, n, s.q, 0, qd, 0, qd)
                    .add(w.k(), s.xn, 0, h, n, s.k, 0, kvd, 0, kvd)
                    .add(w.v(), s.xn, 0, h, n, s.v, 0, kvd, 0, kvd));
        } finally {
            group.clear();
        }
        for (int t = 0; t < n; t++) {
            addBias(w.qBias(), s.q, t * qd);
            addBias(w.kBias(), s.k, t * kvd);
            addBias(w.vBias(), s.v, t * kvd);
            if (w.qNorm() != null) {
                for (int head = 0; head < cfg.numHeads(); head++) {
                    norm(s.q, t * qd + head * hd, w.qNorm(), s.q, t * qd + head * hd);
                }
                for (int head = 0; head < cfg.numKvHeads(); head++) {
                    norm(s.k, t * kvd + head * hd, w.kNorm(), s.k, t * kvd + head * hd);
                }
            }
            decoder.rope().apply(s.q, t * qd, cfg.numHeads(), s.cos[t], s.sin[t]);
            decoder.rope().apply(s.k, t * kvd, cfg.numKvHeads(), s.cos[t], s.sin[t]);
            System.arraycopy(s.k, t * kvd, kRow, 0, kvd);
            System.arraycopy(s.v, t * kvd, vRow, 0, kvd);
            kv.append(w.index(), kRow, vRow);
        }
        if (n > 1 && team != null) { // positions over the team, each with its own scratch: the same bits
            attendTask.set(w.index(), pos0, qd, n);
            try {
                team.forRange(0, n, 1, attendTask);
            } finally {
                attendTask.set(-1, 0, 0, 0);
            }
        } else {
            for (int t = 0; t < n; t++) {
                attention.attend(kv, w.index(), pos0 + t + 1, s.q, t * qd, s.att, t * qd);
            }
        }
        mv.applyBatch(w.o(), s.att, 0, qd, n, s.tmp, 0, h, 0, h);
    }

    /**
     * The MoE block of sparse layer l for the batch: routes every position, then runs each chosen expert once
     * over all positions routed to it (in order of first use, so a decode step pins its experts most probable
     * first, except that an expert already resident goes before one still being read: {@link
     * WeightSource#awaitReady}), and adds each position's weighted expert outputs to its residual in its own top-k order. Returns
     * the time spent waiting for experts.
     */
    private long moeBlock(MoeDecoder.LayerWeights w, int l, int n, int[][][] experts, float[][][] weights) {
        Batch s = b;
        int h = cfg.hiddenSize();
        int numExperts = cfg.numExperts();
        int topK = cfg.expertsPerToken();
        mv.applyBatch(w.router(), s.xn, 0, h, n, s.router, 0, numExperts, 0, numExperts);
        Arrays.fill(routedCount, 0);
        int used = 0;
        for (int t = 0; t < n; t++) {
            System.arraycopy(s.router, t * numExperts, routerLogits, 0, numExperts);
            int[] idx = new int[topK];
            float[] gw = new float[topK];
            TopK.route(routerLogits, numExperts, topK, cfg.normTopkProb(), idx, gw);
            if (n == 1 && decoder.options().speculativePrefetch()) {
                prefetchNext(l);
            }
            experts[t][l] = idx;
            weights[t][l] = gw;
            source.observeRouting(l, idx.clone(), gw.clone());
            for (int j = 0; j < topK; j++) {
                int e = idx[j];
                if (routedCount[e] == 0) {
                    expertOrder[used++] = e;
                }
                if (routed[e].length == routedCount[e]) {
                    routed[e] = Arrays.copyOf(routed[e], Math.max(4, 2 * routed[e].length));
                }
                routed[e][routedCount[e]++] = t * topK + j;
            }
        }
        if (n > 1 && decoder.options().speculativePrefetch()) {
            source.prefetch(l, Arrays.copyOf(expertOrder, used)); // all of them are about to be pinned, in this order
        }
        long wait = 0;
        for (int u = 0; u < used; u++) {
            // the next expert to compute is one whose bytes are here (arrival order): each writes its own slots,
            // which are summed in top-k order below, so the order changes no result
            long w0 = System.nanoTime();
            int ready = source.awaitReady(l, expertOrder, u, used);
            wait += System.nanoTime() - w0;
            if (ready != u) {
                int x = expertOrder[u];
                expertOrder[u] = expertOrder[ready];
                expertOrder[ready] = x;
            }
            int e = expertOrder[u];
            int count = routedCount[e];
            int[] slots = routed[e];
            // one position: read its input and write its slot in place; several: gather them into one block
            float[] in = s.xn;
            int inOff = slots[0] / topK * h;
            float[] outBuf = s.slots;
            int outOff = slots[0] * h;
            if (count > 1) {
                for (int i = 0; i < count; i++) {
                    System.arraycopy(s.xn, slots[i] / topK * h, s.gathered, i * h, h);
                }
                in = s.gathered;
                inOff = 0;
                outBuf = s.expertOut;
                outOff = 0;
            }
            long t0 = System.nanoTime();
            try (ExpertWeights ew = source.expert(l, e)) {
                wait += System.nanoTime() - t0;
                TensorView w1 = ew.tensor(ExpertProjection.GATE);
                int inter = Math.toIntExact(w1.rows());
                mv.applyGateUpBatch(w1, ew.tensor(ExpertProjection.UP), in, inOff, h, count, s.gate, s.up, 0, inter,
                        0, inter);
                mv.applyBatch(ew.tensor(ExpertProjection.DOWN), s.gate, 0, inter, count, outBuf, outOff, h, 0, h);
            }
            if (count > 1) {
                for (int i = 0; i < count; i++) {
                    System.arraycopy(s.expertOut, i * h, s.slots, slots[i] * h, h);
                }
            }
        }
        for (int t = 0; t < n; t++) {
            Arrays.fill(moe, 0f);
            float[] gw = weights[t][l];
            for (int j = 0; j < topK; j++) {
                VecMath.axpy(gw[j], s.slots, (t * topK + j) * h, moe, 0, h);
            }
            VecMath.add(moe, 0, s.x, t * h, h);
        }
        return wait;
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
        MoeDecoder.LayerWeights nl = decoder.layer(next);
        norm(b.x, 0, nl.postNorm(), guessNorm, 0);
        mv.apply(nl.router(), guessNorm, guessLogits);
        int width = predicted.length;
        TopK.select(guessLogits, cfg.numExperts(), width, predicted, predictedProb);
        source.prefetch(next, Arrays.copyOf(predicted, width));
    }

    /** RMSNorm of in[inOff, inOff + weight.length) into out[outOff..] (may be in place). */
    private void norm(float[] in, int inOff, float[] weight, float[] out, int outOff) {
        if (vector) {
            RmsNorm.apply(in, inOff, weight, cfg.rmsNormEps(), out, outOff, weight.length, lanes);
        } else {
            RmsNorm.applyScalar(in, inOff, weight, cfg.rmsNormEps(), out, outOff, weight.length);
        }
    }

    private static void addBias(float[] bias, float[] out, int off) {
        if (bias != null) {
            for (int i = 0; i < bias.length; i++) {
                out[off + i] += bias[i];
            }
        }
    }

    /**
     * Feeds {@code prompt} (in batches, see {@link #prefill}), then samples up to {@code maxNew} tokens, feeding
     * each back except the last. Stops early after sampling a token in {@code stopTokens} (which is included in
     * the result). The listener sees every position, the prompt's after the whole prompt has been fed (with
     * their logits; computed only when there is a listener). Returns the sampled tokens.
     */
    public List<Integer> generate(List<Integer> prompt, int maxNew, Sampler sampler, Set<Integer> stopTokens,
                                  StepListener listener) {
        if (prompt.isEmpty()) {
            throw new IllegalArgumentException("generate needs a non-empty prompt");
        }
        List<Integer> out = new ArrayList<>();
        int[] ids = prompt.stream().mapToInt(Integer::intValue).toArray();
        List<ForwardStep> steps = prefill(ids, true, listener != StepListener.NONE);
        for (int i = 0; i < steps.size(); i++) {
            ForwardStep s = steps.get(i);
            if (i == steps.size() - 1 && maxNew > 0) {
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

    /** Activations of one batch of positions, row t of each matrix at t * its width. */
    private static final class Batch {
        final int capacity;
        final float[] x;
        final float[] xn;
        final float[] tmp;
        final float[] q;
        final float[] k;
        final float[] v;
        final float[] att;
        final float[] router;
        final float[] gate;
        final float[] up;
        final float[] gathered;
        final float[] expertOut;
        final float[] slots;
        final float[][] cos;
        final float[][] sin;

        Batch(ModelConfig c, int n) {
            capacity = n;
            int h = c.hiddenSize();
            int inter = Math.max(c.expertIntermediateSize(), c.denseIntermediateSize());
            x = new float[n * h];
            xn = new float[n * h];
            tmp = new float[n * h];
            q = new float[n * c.qDim()];
            k = new float[n * c.kvDim()];
            v = new float[n * c.kvDim()];
            att = new float[n * c.qDim()];
            router = new float[n * Math.max(1, c.numExperts())];
            gate = new float[n * inter];
            up = new float[n * inter];
            int topK = Math.max(1, c.expertsPerToken());
            gathered = new float[n * h];
            expertOut = new float[n * h];
            slots = new float[n * topK * h];
            cos = new float[n][c.headDim() / 2];
            sin = new float[n][c.headDim() / 2];
        }
    }

    /** Loop indexes over the batch's positions in attentionBlock's layer, each thread with its own {@link Attention}. */
    private final class AttendTask implements WorkerTeam.RangeTask {
        private final ThreadLocal<Attention> scratch = ThreadLocal.withInitial(
                () -> new Attention(cfg.numHeads(), cfg.numKvHeads(), cfg.headDim(), vector));
        private int layer = -1;
        private int pos0;
        private int qd;
        private int n;

        void set(int layer, int pos0, int qd, int n) {
            this.layer = layer;
            this.pos0 = pos0;
            this.qd = qd;
            this.n = n;
        }

        /**
         * Index v of the loop is position v / 2 (v even) or n - 1 - v / 2 (v odd), so that every piece holds early
         * (short) and late (long) positions alike: a causal position's cost grows with it.
         */
        @Override
        public void run(int from, int to) {
            Attention a = scratch.get();
            Batch s = b;
            for (int v = from; v < to; v++) {
                int t = (v & 1) == 0 ? v >> 1 : n - 1 - (v >> 1);
                a.attend(kv, layer, pos0 + t + 1, s.q, t * qd, s.att, t * qd);
            }
        }
    }
}
