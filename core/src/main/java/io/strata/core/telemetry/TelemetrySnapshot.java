package io.strata.core.telemetry;

import io.strata.core.model.Tier;
import io.strata.core.util.Sizes;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;

/** Every tier's figures plus prefetch figures at one moment; {@link #format()} is what {@code --stats} prints. */
public record TelemetrySnapshot(Map<Tier, TierStats> tiers, PrefetchStats prefetch, long stallNanos) {
    public TelemetrySnapshot {
        tiers = Map.copyOf(new EnumMap<>(tiers));
    }

    public TierStats tier(Tier t) {
        TierStats s = tiers.get(t);
        if (s == null) {
            throw new IllegalArgumentException("no telemetry for tier " + t + " (tiers: " + tiers.keySet() + ")");
        }
        return s;
    }

    public String format() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%-7s %9s %9s %9s %10s %10s %12s %10s %10s %10s%n", "tier", "hits",
                "misses", "evicts", "bytesIn", "bytesOut", "bandwidth", "stall", "highWater", "budget"));
        for (Tier t : Tier.values()) {
            TierStats s = tiers.get(t);
            if (s == null) {
                continue;
            }
            sb.append(String.format(Locale.ROOT, "%-7s %9d %9d %9d %10s %10s %10s/s %8.1fms %10s %10s%n",
                    t.name().toLowerCase(Locale.ROOT), s.hits(), s.misses(), s.evictions(), Sizes.format(s.bytesIn()),
                    Sizes.format(s.bytesOut()), Sizes.format((long) s.bandwidth()), s.stallNanos() / 1e6,
                    Sizes.format(s.highWater()), s.budget() < 0 ? "-" : Sizes.format(s.budget())));
        }
        sb.append(String.format(Locale.ROOT, "prefetch: issued %d, hits %d, wasted %d, skipped %d; compute stalled %.1f ms%n",
                prefetch.issued(), prefetch.hits(), prefetch.wasted(), prefetch.skipped(), stallNanos / 1e6));
        return sb.toString();
    }
}
