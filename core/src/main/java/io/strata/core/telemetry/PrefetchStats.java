package io.strata.core.telemetry;

/** Prefetch figures at one moment; see {@link PrefetchCounters}. */
public record PrefetchStats(long issued, long hits, long wasted, long skipped, long cancelled) {
    public PrefetchStats(long issued, long hits, long wasted, long skipped) {
        this(issued, hits, wasted, skipped, 0);
    }

    /** Share of issued prefetches that compute used. */
    public double accuracy() {
        return issued == 0 ? 0 : (double) hits / issued;
    }
}
