package io.strata.tools.generate;

import io.strata.core.manifest.GroupInfo;
import io.strata.core.manifest.Manifest;
import io.strata.core.manifest.TensorInfo;
import io.strata.core.memory.MemoryLedger;
import io.strata.core.memory.Pool;
import io.strata.core.model.Tier;
import io.strata.core.util.Sizes;
import io.strata.kernels.decoder.ForwardStep;
import io.strata.kernels.decoder.MoeDecoder;
import io.strata.kernels.decoder.Sequence;
import io.strata.kernels.decoder.StepListener;
import io.strata.loader.kv.KvOptions;
import io.strata.loader.kv.KvStats;
import io.strata.loader.kv.PagedKvStore;
import io.strata.loader.runtime.ModelRuntime;
import io.strata.loader.runtime.RuntimeOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Runs one generation end to end: a {@link ModelRuntime} pages the weights, the {@link MoeDecoder} computes, and an
 * optional {@link PagedKvStore} holds the KV cache. The one place {@code run}, {@code demo} and the decode
 * benchmark share.
 */
public final class Generator {
    private Generator() {
    }

    public static GenerationResult run(GenerationRequest req, StepListener listener) {
        try (ModelRuntime runtime = ModelRuntime.open(req.model(), req.runtime())) {
            return run(runtime, req, listener);
        }
    }

    /** Generates over a runtime the caller opened (e.g. one whose experts come from peers); it stays open. */
    public static GenerationResult run(ModelRuntime runtime, GenerationRequest req, StepListener listener) {
        Manifest m = runtime.manifest();
        long denseBytes = denseBytes(m);
        long expertBytes = m.isMoe() ? m.moeConfig().expertBytes() : 0;
        int expertCount = (int) m.groups().values().stream().filter(GroupInfo::isExpert).count();
        String source = req.model() != null ? req.model().toString() : "model " + runtime.manifestHash();
        checkSingleRank(m, source);
        ConfigCheck.check(m.config(), source);
        checkBudgets(m, req.runtime(), denseBytes, expertBytes);
        MoeDecoder decoder = new MoeDecoder(runtime, req.decoder());
        PagedKvStore kvStore = req.kv() == null ? null : kvStore(runtime, req.kv());
        try {
            Sequence seq = kvStore == null ? decoder.newSequence()
                    : decoder.newSequence(kvStore.newSequence(decoder.config().kvDim(),
                    decoder.config().numLayers()));
            List<float[]> logits = new ArrayList<>();
            long[] promptNanos = {0};
            long[] decodeNanos = {0};
            long[] wait = {0};
            List<Integer> generated;
            try (seq) {
                generated = seq.generate(req.prompt(), req.maxNew(), req.sampler(), Set.of(), (ForwardStep s) -> {
                    if (s.prompt()) {
                        promptNanos[0] += s.nanos();
                    } else {
                        decodeNanos[0] += s.nanos();
                        wait[0] += s.expertWaitNanos();
                    }
                    if (s.sampled() >= 0) {
                        if (!ConfigCheck.finite(s.logits())) {
                            throw ConfigCheck.nonFinite(m.config(), source, logits.size(), s.logits());
                        }
                        logits.add(s.logits());
                    }
                    listener.onStep(s);
                });
            }
            KvStats kv = kvStore == null ? null : kvStore.stats();
            return new GenerationResult(req.prompt(), generated, logits, promptNanos[0], decodeNanos[0], wait[0],
                    runtime.telemetry(), kv, expertBytes, expertCount, denseBytes);
        } finally {
            if (kvStore != null) {
                kvStore.close();
            }
        }
    }

    /**
     * The KV store reserves in the runtime's own ledgers (pool KV, capped at the KV budgets), so experts and KV
     * pages share each tier's budget and can push each other out, instead of two ledgers each believing it owns
     * the memory.
     */
    private static PagedKvStore kvStore(ModelRuntime runtime, KvOptions kv) {
        MemoryLedger fast = runtime.ledger(runtime.computeTier());
        MemoryLedger host = runtime.ledger(Tier.HOST);
        fast.limitPool(Pool.KV, kv.fastBudgetBytes());
        if (host != fast) {
            host.limitPool(Pool.KV, kv.hostBudgetBytes());
        }
        return PagedKvStore.create(kv, fast, host);
    }

    /** Bytes of every tensor that is not part of an expert group: what stays resident in the compute tier. */
    public static long denseBytes(Manifest m) {
        long total = 0;
        for (var e : m.tensors().entrySet()) {
            for (TensorInfo t : e.getValue()) {
                if (t.group() == null || !t.group().startsWith(GroupInfo.EXPERT + ".")) {
                    total = Sizes.plus(total, t.size());
                }
            }
        }
        return total;
    }

    /** The decoder runs one rank: a model cut into TP slices needs one process per rank, which is not built yet. */
    static void checkSingleRank(Manifest m, String dir) {
        m.tensors().values().stream().filter(l -> l.size() > 1).findFirst().ifPresent(l -> {
            throw new IllegalArgumentException(dir + ": converted with --tp " + l.getFirst().sliceCountOrOne()
                    + "; the decoder runs as a single rank, so convert with --tp 1 (any --layout) to generate with it");
        });
    }

    /**
     * Refuses, before any work, budgets that cannot hold the dense weights plus one layer's top-k experts in the
     * compute tier: such a run could only fail later, or thrash forever.
     */
    static void checkBudgets(Manifest m, RuntimeOptions o, long denseBytes, long expertBytes) {
        if (!m.isMoe()) {
            return;
        }
        int k = Math.max(1, m.moeConfig().numExpertsPerToken());
        long need = Sizes.plus(denseBytes, Sizes.times(k, expertBytes));
        boolean device = o.deviceBudget() > 0;
        long computeBudget = device ? o.deviceBudget() : o.hostBudget() - o.hostReserve();
        Tier tier = device ? Tier.DEVICE : Tier.HOST;
        if (computeBudget < need) {
            throw new IllegalArgumentException(String.format(
                    "--%s-budget %s%s cannot hold the dense weights (%s) plus one layer's top-%d experts (%d x %s); "
                            + "this model needs at least %s there",
                    tier == Tier.DEVICE ? "device" : "host", Sizes.format(computeBudget),
                    tier == Tier.HOST && o.hostReserve() > 0 ? " (after the " + Sizes.format(o.hostReserve())
                            + " reserve)" : "",
                    Sizes.format(denseBytes), k, k, Sizes.format(expertBytes), Sizes.format(need)));
        }
        if (device && o.hostBudget() - o.hostReserve() < Sizes.times(k, expertBytes)) {
            throw new IllegalArgumentException(String.format(
                    "--host-budget %s cannot stage one layer's top-%d experts (%d x %s) on their way to the device",
                    Sizes.format(o.hostBudget() - o.hostReserve()), k, k, Sizes.format(expertBytes)));
        }
    }
}
