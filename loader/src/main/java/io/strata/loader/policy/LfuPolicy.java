package io.strata.loader.policy;

import io.strata.core.model.ExpertId;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Least frequently used, counting every access since start (also while not resident: "perfect" LFU), ties
 * broken by least recent access.
 */
public final class LfuPolicy implements EvictionPolicy {
    private final Map<ExpertId, long[]> stats = new HashMap<>(); // {count, last access tick}
    private final LinkedHashSet<ExpertId> resident = new LinkedHashSet<>();
    private long tick;

    @Override
    public String name() {
        return "lfu";
    }

    @Override
    public synchronized void recordAccess(ExpertId id, double weight) {
        long[] s = stats.computeIfAbsent(id, k -> new long[2]);
        s[0]++;
        s[1] = ++tick;
    }

    @Override
    public synchronized void inserted(ExpertId id) {
        resident.add(id);
    }

    @Override
    public synchronized void removed(ExpertId id) {
        resident.remove(id);
    }

    @Override
    public synchronized ExpertId victim(ExpertId incoming, Predicate<ExpertId> evictable) {
        ExpertId best = null;
        long bestCount = Long.MAX_VALUE;
        long bestTick = Long.MAX_VALUE;
        for (ExpertId id : resident) {
            if (!evictable.test(id)) {
                continue;
            }
            long[] s = stats.getOrDefault(id, new long[2]);
            if (s[0] < bestCount || (s[0] == bestCount && s[1] < bestTick)) {
                best = id;
                bestCount = s[0];
                bestTick = s[1];
            }
        }
        return best;
    }
}
