package io.strata.tools.generate;

import io.strata.core.manifest.GroupInfo;
import io.strata.core.manifest.Manifest;
import io.strata.core.manifest.TensorInfo;
import io.strata.core.model.Tier;
import io.strata.core.util.Sizes;
import io.strata.kernels.decoder.StepListener;
import io.strata.loader.runtime.ModelRuntime;
import io.strata.loader.runtime.RuntimeOptions;
import java.util.List;

/**
 * Runs one generation end to end: a {@link ModelRuntime} pages the weights and a {@link DecodeSession} decodes
 * (the {@code MoeDecoder} computes, an optional paged KV store holds the KV cache). The one place {@code run},
 * {@code demo} and the decode benchmark share.
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
        String source = req.model() != null ? req.model().toString() : "model " + runtime.manifestHash();
        try (DecodeSession s = DecodeSession.open(runtime, source, req.runtime(), req.kv(), req.sampler(),
                req.decoder(), true)) {
            List<Integer> generated = s.generate(req.prompt(), req.maxNew(), req.stop(), listener);
            return s.result(req.prompt(), generated);
        }
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
