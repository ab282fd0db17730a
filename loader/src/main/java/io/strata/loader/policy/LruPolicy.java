package io.strata.loader.policy;

import io.strata.core.model.ExpertId;
import io.strata.core.util.LruOrder;
import java.util.function.Predicate;

/** Least recently used: the policy of the mixtral-offloading paper. */
public final class LruPolicy implements EvictionPolicy {
    private final LruOrder<ExpertId> order = new LruOrder<>();

    @Override
    public String name() {
        return "lru";
    }

    @Override
    public synchronized void recordAccess(ExpertId id, double weight) {
        order.touch(id); // moves a resident entry to the most recent end
    }

    @Override
    public synchronized void inserted(ExpertId id) {
        order.add(id);
    }

    @Override
    public synchronized void removed(ExpertId id) {
        order.remove(id);
    }

    @Override
    public synchronized ExpertId victim(ExpertId incoming, Predicate<ExpertId> evictable) {
        for (ExpertId id : order) {
            if (evictable.test(id)) {
                return id;
            }
        }
        return null;
    }
}
