package io.strata.loader.trace;

import io.strata.core.model.ExpertId;
import io.strata.loader.policy.EvictionPolicy;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Replays accesses against one global cache of {@code capacity} experts driven by an {@link EvictionPolicy}: a
 * demand cache (every miss is fetched; the policy may decline to keep it). Returns the hit count.
 */
final class CacheSimulator {
    private CacheSimulator() {
    }

    public static long hits(List<RoutingTrace.Access> accesses, EvictionPolicy policy, int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1 expert, got " + capacity);
        }
        Set<ExpertId> resident = new HashSet<>();
        long hits = 0;
        for (RoutingTrace.Access a : accesses) {
            ExpertId id = a.id();
            policy.recordAccess(id, a.weight());
            if (resident.contains(id)) {
                hits++;
                continue;
            }
            if (resident.size() >= capacity) {
                ExpertId victim = policy.victim(id, x -> true);
                if (victim == null) {
                    throw new IllegalStateException(policy.name() + " found no victim in a full cache");
                }
                if (victim.equals(id)) {
                    continue; // bypass: used once, not kept
                }
                resident.remove(victim);
                policy.removed(victim);
            }
            resident.add(id);
            policy.inserted(id);
        }
        return hits;
    }
}
