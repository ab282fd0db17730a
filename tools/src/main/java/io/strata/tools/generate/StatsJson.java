package io.strata.tools.generate;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.strata.core.model.Tier;
import io.strata.core.telemetry.TierStats;
import java.util.Locale;
import java.util.Map;

/** The {@code stats} object of {@code run --json}. */
public final class StatsJson {
    private StatsJson() {
    }

    public static ObjectNode of(GenerationResult r, ObjectMapper mapper) {
        ObjectNode s = mapper.createObjectNode();
        s.put("promptTokens", r.prompt().size());
        s.put("generatedTokens", r.generated().size());
        s.put("promptSeconds", r.promptNanos() / 1e9);
        s.put("decodeSeconds", r.decodeNanos() / 1e9);
        s.put("tokensPerSecond", r.decodeTokensPerSecond());
        s.put("expertWaitMillis", r.expertWaitNanos() / 1e6);
        s.put("stallMillis", r.telemetry().stallNanos() / 1e6);
        s.put("expertBytes", r.expertBytes());
        s.put("expertCount", r.expertCount());
        s.put("denseBytes", r.denseBytes());
        ObjectNode tiers = s.putObject("tiers");
        for (Map.Entry<Tier, TierStats> e : r.telemetry().tiers().entrySet()) {
            TierStats t = e.getValue();
            ObjectNode n = tiers.putObject(e.getKey().name().toLowerCase(Locale.ROOT));
            n.put("hits", t.hits());
            n.put("misses", t.misses());
            n.put("evictions", t.evictions());
            n.put("bytesIn", t.bytesIn());
            n.put("bytesOut", t.bytesOut());
            n.put("bandwidthBytesPerSecond", t.bandwidth());
            n.put("stallMillis", t.stallNanos() / 1e6);
            n.put("highWater", t.highWater());
            n.put("budget", t.budget());
        }
        ObjectNode p = s.putObject("prefetch");
        p.put("issued", r.telemetry().prefetch().issued());
        p.put("hits", r.telemetry().prefetch().hits());
        p.put("wasted", r.telemetry().prefetch().wasted());
        p.put("accuracy", r.telemetry().prefetch().accuracy());
        if (r.kv() != null) {
            ObjectNode kv = s.putObject("kv");
            kv.put("fastPages", r.kv().fastPages());
            kv.put("hostPages", r.kv().hostPages());
            kv.put("diskPages", r.kv().diskPages());
            kv.put("bytesSpilled", r.kv().bytesSpilled());
            kv.put("bytesRestored", r.kv().bytesRestored());
            kv.put("compressionRatio", r.kv().compressionRatio());
            kv.put("restoreStallMillis", r.kv().restoreStallNanos() / 1e6);
        }
        return s;
    }
}
