package io.strata.tools.generate;

import io.strata.core.manifest.GroupInfo;
import io.strata.core.manifest.Manifest;
import io.strata.core.memory.MemoryLedger;
import io.strata.core.memory.Pool;
import io.strata.core.model.Tier;
import io.strata.kernels.decoder.DecoderOptions;
import io.strata.kernels.decoder.ForwardStep;
import io.strata.kernels.decoder.MoeDecoder;
import io.strata.kernels.decoder.Sampler;
import io.strata.kernels.decoder.Sequence;
import io.strata.kernels.decoder.StepListener;
import io.strata.loader.kv.KvOptions;
import io.strata.loader.kv.PagedKvStore;
import io.strata.loader.runtime.ModelRuntime;
import io.strata.loader.runtime.RuntimeOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A sequence being decoded over an open {@link ModelRuntime}, which may be fed and extended many times: a chat
 * keeps one for the whole conversation, so its KV cache (and the runtime's paged experts) carry from turn to turn
 * and each turn feeds only its new tokens. {@link Generator} uses one for a single generation. The token sampled
 * last is never fed by {@link #generate} (nothing has asked for its successor yet): a continuation starts by
 * feeding it. Not thread-safe.
 */
public final class DecodeSession implements AutoCloseable {
    private final ModelRuntime runtime;
    private final Manifest manifest;
    private final String source;
    private final MoeDecoder decoder;
    private final PagedKvStore kvStore;
    private final Sampler sampler;
    private final boolean keepLogits;
    private final List<float[]> logits = new ArrayList<>();
    private Sequence seq;
    private long promptNanos;
    private long decodeNanos;
    private long waitNanos;

    private DecodeSession(ModelRuntime runtime, String source, KvOptions kv, Sampler sampler, DecoderOptions d,
                          boolean keepLogits) {
        this.runtime = runtime;
        this.manifest = runtime.manifest();
        this.source = source;
        this.sampler = sampler;
        this.keepLogits = keepLogits;
        this.decoder = new MoeDecoder(runtime, d);
        this.kvStore = kv == null ? null : kvStore(runtime, kv);
        this.seq = newSequence();
    }

    /**
     * Checks the model and the budgets (before any work), then opens the decoder. {@code source} names the model
     * in errors; {@code keepLogits} keeps every sampled step's logits for {@link #result}.
     */
    public static DecodeSession open(ModelRuntime runtime, String source, RuntimeOptions ro, KvOptions kv,
                                     Sampler sampler, DecoderOptions d, boolean keepLogits) {
        Manifest m = runtime.manifest();
        Generator.checkSingleRank(m, source);
        ConfigCheck.check(m.config(), source);
        Generator.checkBudgets(m, ro, Generator.denseBytes(m), expertBytes(m));
        return new DecodeSession(runtime, source, kv, sampler, d, keepLogits);
    }

    private Sequence newSequence() {
        return kvStore == null ? decoder.newSequence()
                : decoder.newSequence(kvStore.newSequence(decoder.config().kvDim(), decoder.config().numLayers()));
    }

    /** Tokens the model takes: ids at or above this are refused. */
    public int vocabSize() {
        return decoder.config().vocabSize();
    }

    /** Positions in the KV cache: the position the next fed token takes. */
    public int position() {
        return seq.position();
    }

    /**
     * Feeds {@code feed} at the next positions, then samples up to {@code maxNew} tokens, stopping after one in
     * {@code stop}; returns the sampled tokens (the last is not fed).
     */
    public List<Integer> generate(List<Integer> feed, int maxNew, Set<Integer> stop, StepListener listener) {
        return seq.generate(feed, maxNew, sampler, stop, (ForwardStep s) -> {
            if (s.prompt()) {
                promptNanos += s.nanos();
            } else {
                decodeNanos += s.nanos();
                waitNanos += s.expertWaitNanos();
            }
            if (s.sampled() >= 0) {
                if (!ConfigCheck.finite(s.logits())) {
                    throw ConfigCheck.nonFinite(manifest.config(), source, logits.size(), s.logits());
                }
                if (keepLogits) {
                    logits.add(s.logits());
                }
            }
            listener.onStep(s);
        });
    }

    /**
     * Teacher forcing: feeds {@code ids} at the next positions (in prefill batches) and returns every position's
     * next-token logits, position i's predicting ids[i + 1] (the last's what would follow).
     */
    public List<float[]> teacherForced(int[] ids) {
        long t0 = System.nanoTime();
        List<float[]> out = new java.util.ArrayList<>(ids.length);
        for (ForwardStep s : seq.prefillSteps(ids)) {
            if (!ConfigCheck.finite(s.logits())) {
                throw ConfigCheck.nonFinite(manifest.config(), source, out.size(), s.logits());
            }
            out.add(s.logits());
            waitNanos += s.expertWaitNanos();
        }
        promptNanos += System.nanoTime() - t0;
        return out;
    }

    /** Drops the KV cache and starts again at position 0 (same runtime: experts stay paged). */
    public void reset() {
        seq.close();
        seq = newSequence();
    }

    /** What was generated and what it cost so far, for {@code prompt} and {@code generated}. */
    public GenerationResult result(List<Integer> prompt, List<Integer> generated) {
        int expertCount = (int) manifest.groups().values().stream().filter(GroupInfo::isExpert).count();
        if (expertCount == 0) { // no groups map (a GGUF file, a DOPPLER manifest): the experts' tensors say
            expertCount = (int) manifest.tensors().values().stream().flatMap(List::stream)
                    .map(io.strata.core.manifest.TensorInfo::group)
                    .filter(g -> g != null && g.startsWith(GroupInfo.EXPERT + ".")).distinct().count();
        }
        return new GenerationResult(prompt, generated, List.copyOf(logits), promptNanos, decodeNanos, waitNanos,
                runtime.telemetry(), kvStore == null ? null : kvStore.stats(), expertBytes(manifest), expertCount,
                Generator.denseBytes(manifest));
    }

    @Override
    public void close() {
        try {
            seq.close();
        } finally {
            if (kvStore != null) {
                kvStore.close();
            }
        }
    }

    private static long expertBytes(Manifest m) {
        return m.isMoe() ? m.moeConfig().expertBytes() : 0;
    }

    /**
     * The KV store reserves in the runtime's own ledgers (pool KV, capped at the KV budgets), so experts and KV
     * pages share each tier's budget and can push each other out, instead of two ledgers each believing it owns
     * the memory.
     */
    public static PagedKvStore kvStore(ModelRuntime runtime, KvOptions kv) {
        MemoryLedger fast = runtime.ledger(runtime.computeTier());
        MemoryLedger host = runtime.ledger(Tier.HOST);
        fast.limitPool(Pool.KV, kv.fastBudgetBytes());
        if (host != fast) {
            host.limitPool(Pool.KV, kv.hostBudgetBytes());
        }
        return PagedKvStore.create(kv, fast, host);
    }
}
