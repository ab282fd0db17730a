package io.strata.core.telemetry;

import io.strata.core.model.Tier;

/** One tier's figures at one moment. {@code bandwidth} is bytes per second over the time spent paging in. */
public record TierStats(Tier tier, long hits, long misses, long evictions, long bytesIn, long bytesOut,
                        long ioNanos, long stallNanos, long highWater, long budget, long used) {

    public double hitRate() {
        long n = hits + misses;
        return n == 0 ? 0 : (double) hits / n;
    }

    /** Achieved page-in bandwidth in bytes/s (0 when nothing was paged in). */
    public double bandwidth() {
        return ioNanos == 0 ? 0 : bytesIn * 1e9 / ioNanos;
    }
}
