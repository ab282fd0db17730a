package io.strata.loader.trace;

/**
 * One policy's hit rate on a trace next to Belady's optimum on the same trace and capacity, and the time the
 * policy's calls took in the replay ({@code policyNanos}, -1 when not measured; the cache simulator's own set
 * operations included, as they are small next to a policy's).
 */
public record ReplayResult(String policy, int capacity, long accesses, long hits, long beladyHits, long policyNanos) {
    /** Replay time per access in nanoseconds; NaN when not measured. */
    public double nanosPerAccess() {
        return policyNanos < 0 || accesses == 0 ? Double.NaN : (double) policyNanos / accesses;
    }

    public double hitRate() {
        return accesses == 0 ? 0 : (double) hits / accesses;
    }

    public double belady() {
        return accesses == 0 ? 0 : (double) beladyHits / accesses;
    }

    /** hitRate / belady: 1.0 means optimal. */
    public double ratio() {
        return beladyHits == 0 ? (hits == 0 ? 1 : 0) : (double) hits / beladyHits;
    }
}
