package io.strata.loader.trace;

import io.strata.loader.policy.EvictionPolicy;
import io.strata.loader.policy.Policies;
import java.util.List;

/** Runs named policies and Belady over one trace at one capacity. */
public final class TraceReplay {
    private TraceReplay() {
    }

    public static ReplayResult replay(RoutingTrace trace, String policy, int capacity) {
        List<RoutingTrace.Access> accesses = trace.accesses();
        long belady = BeladySimulator.hits(accesses, capacity);
        EvictionPolicy p = Policies.create(policy, capacity);
        long start = System.nanoTime();
        long hits = CacheSimulator.hits(accesses, p, capacity);
        long nanos = System.nanoTime() - start;
        return new ReplayResult(p.name(), capacity, accesses.size(), hits, belady, nanos);
    }
}
