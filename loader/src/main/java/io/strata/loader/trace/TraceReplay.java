package io.strata.loader.trace;

import io.strata.loader.policy.Policies;
import java.util.List;

/** Runs named policies and Belady over one trace at one capacity. */
public final class TraceReplay {
    private TraceReplay() {
    }

    public static ReplayResult replay(RoutingTrace trace, String policy, int capacity) {
        List<RoutingTrace.Access> accesses = trace.accesses();
        long belady = BeladySimulator.hits(accesses, capacity);
        long hits = CacheSimulator.hits(accesses, Policies.create(policy, capacity), capacity);
        return new ReplayResult(policy, capacity, accesses.size(), hits, belady);
    }
}
