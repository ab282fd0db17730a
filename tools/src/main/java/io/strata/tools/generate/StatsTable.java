package io.strata.tools.generate;

import io.strata.core.model.Tier;
import io.strata.core.telemetry.TierStats;
import io.strata.core.util.Sizes;
import java.util.Locale;

/** The human summary of a generation: throughput, stalls, the tier table, prefetch accuracy, peaks vs budgets. */
public final class StatsTable {
    private StatsTable() {
    }

    public static String format(GenerationResult r) {
        StringBuilder sb = new StringBuilder();
        int decoded = Math.max(0, r.generated().size() - 1);
        sb.append(String.format(Locale.ROOT,
                "prompt: %d tokens in %.2f s; decode: %d tokens in %.2f s = %.2f tokens/s%n",
                r.prompt().size(), r.promptNanos() / 1e9, decoded, r.decodeNanos() / 1e9, r.decodeTokensPerSecond()));
        sb.append(String.format(Locale.ROOT, "model: %d experts of %s (%s of experts), dense %s%n",
                r.expertCount(), Sizes.format(r.expertBytes()), Sizes.format(r.expertBytes() * r.expertCount()),
                Sizes.format(r.denseBytes())));
        sb.append(String.format(Locale.ROOT, "decode waited %.1f ms for experts (%.1f %% of decode time; the table's stall also counts the prompt)%n",
                r.expertWaitNanos() / 1e6, r.decodeNanos() == 0 ? 0 : 100.0 * r.expertWaitNanos() / r.decodeNanos()));
        sb.append(r.telemetry().format());
        sb.append(String.format(Locale.ROOT, "prefetch accuracy: %.1f %% of issued prefetches were used%n",
                100 * r.telemetry().prefetch().accuracy()));
        for (Tier t : new Tier[]{Tier.DEVICE, Tier.HOST, Tier.DISK}) {
            TierStats s = r.telemetry().tiers().get(t);
            if (s != null && s.budget() > 0) {
                sb.append(String.format(Locale.ROOT, "peak %-6s %10s of budget %10s (%.1f %%)%s%n",
                        t.name().toLowerCase(Locale.ROOT), Sizes.format(s.highWater()), Sizes.format(s.budget()),
                        100.0 * s.highWater() / s.budget(), s.highWater() > s.budget() ? "  OVER BUDGET" : ""));
            }
        }
        if (r.kv() != null) {
            sb.append("kv: ").append(r.kv()).append(System.lineSeparator());
        }
        return sb.toString();
    }
}
