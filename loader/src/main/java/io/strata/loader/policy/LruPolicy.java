package io.strata.loader.policy;

import io.strata.core.model.ExpertId;
import java.util.LinkedHashMap;
import java.util.function.Predicate;

/** Least recently used: the policy of the mixtral-offloading paper. */
public final class LruPolicy implements EvictionPolicy {
    private final LinkedHashMap<ExpertId, Boolean> order = new LinkedHashMap<>(64, 0.75f, true);

    @Override
    public String name() {
        return "lru";
    }

    @Override
    public synchronized void recordAccess(ExpertId id, double weight) {
        order.get(id); // moves a resident entry to the most recent end
    }

    @Override
    public synchronized void inserted(ExpertId id) {
        order.put(id, Boolean.TRUE);
    }

    @Override
    public synchronized void removed(ExpertId id) {
        order.remove(id);
    }

    @Override
    public synchronized ExpertId victim(ExpertId incoming, Predicate<ExpertId> evictable) {
        for (ExpertId id : order.keySet()) {
            if (evictable.test(id)) {
                return id;
            }
        }
        return null;
    }
}
