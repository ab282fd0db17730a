package io.strata.tools.commands;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.core.model.DType;
import io.strata.core.model.Tier;
import io.strata.core.telemetry.TelemetrySnapshot;
import io.strata.kernels.decoder.DecoderOptions;
import io.strata.kernels.decoder.ForwardStep;
import io.strata.kernels.decoder.Sampler;
import io.strata.loader.policy.Policies;
import io.strata.loader.runtime.RuntimeOptions;
import io.strata.loader.trace.ReplayResult;
import io.strata.loader.trace.RoutingTrace;
import io.strata.loader.trace.TraceReplay;
import io.strata.storage.convert.ConvertOptions;
import io.strata.storage.convert.ProgressListener;
import io.strata.storage.convert.ShardConverter;
import io.strata.storage.synth.SyntheticCheckpoint;
import io.strata.tools.generate.GenerationRequest;
import io.strata.tools.generate.GenerationResult;
import io.strata.tools.generate.Generator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The MoE decoder runs on the tiered runtime under a host budget of a quarter of the experts; its routing is
 * recorded as a trace and replayed: Belady bounds every policy, and the moe policy is at least LRU.
 */
class DecoderTraceTest {
    @Test
    void decoderRoutingTracesReplay(@TempDir Path dir) throws Exception {
        int layers = 8;
        int experts = 8;
        Path src = dir.resolve("src");
        Path model = dir.resolve("model");
        SyntheticCheckpoint.builder().dtype(DType.F32).hidden(64).intermediate(64).layers(layers).heads(4)
                .kvHeads(2).headDim(16).experts(experts).topK(2).vocab(64).routerSkew(0.5).seed(21).write(src);
        ShardConverter.convert(src, model, ConvertOptions.defaults().withShardSize(256 << 10), ProgressListener.NONE);
        long expertBytes = io.strata.core.manifest.ManifestCodec.read(model).moeConfig().expertBytes();
        long denseBytes = Generator.denseBytes(io.strata.core.manifest.ManifestCodec.read(model));
        long budget = denseBytes + layers * experts * expertBytes / 4;
        RuntimeOptions o = RuntimeOptions.builder().noDiskCache().hostBudget(budget).policy("moe").build();
        StringBuilder trace = new StringBuilder();
        GenerationRequest req = new GenerationRequest(model, List.of(1, 2, 3, 4), 40, o, null,
                Sampler.temperature(1.0, 1.0, 5), DecoderOptions.defaults().withThreads(1));
        GenerationResult r = Generator.run(req, (ForwardStep s) -> trace.append(s.routing().toTraceJsonl()));
        TelemetrySnapshot t = r.telemetry();
        assertTrue(t.tier(Tier.HOST).highWater() <= budget, "the host budget held during decoding");
        assertTrue(t.tier(Tier.HOST).evictions() > 0, "a quarter of the experts: the run had to page");
        Path file = dir.resolve("decoder-trace.jsonl");
        Files.writeString(file, trace);
        RoutingTrace rt = RoutingTrace.read(file);
        assertEquals((4 + 40 - 1) * layers, rt.records().size(), "one record per forwarded position and layer");
        List<String> table = new ArrayList<>();
        for (int cap : new int[]{layers * experts / 4, layers * experts / 2}) {
            long lru = TraceReplay.replay(rt, "lru", cap).hits();
            for (String p : Policies.NAMES) {
                ReplayResult x = TraceReplay.replay(rt, p, cap);
                assertTrue(x.hits() <= x.beladyHits(), p + " beat Belady");
                table.add(String.format("%d %s %.3f belady %.3f", cap, p, x.hitRate(), x.belady()));
            }
            long moe = TraceReplay.replay(rt, "moe", cap).hits();
            assertTrue(moe >= lru, "capacity " + cap + ": moe " + moe + " < lru " + lru);
        }
        System.out.println(String.join("\n", table));
    }
}
