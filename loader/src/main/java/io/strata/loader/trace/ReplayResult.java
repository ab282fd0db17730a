package io.strata.loader.trace;

/** One policy's hit rate on a trace next to Belady's optimum on the same trace and capacity. */
public record ReplayResult(String policy, int capacity, long accesses, long hits, long beladyHits) {
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
