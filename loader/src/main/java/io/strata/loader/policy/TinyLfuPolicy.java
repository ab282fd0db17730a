package io.strata.loader.policy;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.strata.core.model.ExpertId;
import java.util.LinkedHashSet;
import java.util.function.Predicate;
import java.util.function.ToLongFunction;

/**
 * Caffeine's W-TinyLFU, used for its decisions only: a shadow Caffeine cache of the same capacity (in entries)
 * sees every access and insertion and evicts (or refuses to admit) by its window/probation/protected segments
 * and frequency sketch. A resident entry Caffeine no longer holds is the victim; otherwise Caffeine's own
 * coldest-first order is followed. Pins and memory stay with Strata's caches (Caffeine's 0-weight pinning trick
 * would need re-weighing on every pin and still lets Caffeine free memory asynchronously; the ledger must stay
 * the only authority over bytes).
 */
public final class TinyLfuPolicy implements EvictionPolicy {
    private final Cache<ExpertId, Boolean> shadow;
    private final LinkedHashSet<ExpertId> resident = new LinkedHashSet<>();

    /** @param capacity the cache's capacity in entries (experts) */
    public TinyLfuPolicy(long capacity) {
        this.shadow = Caffeine.newBuilder().maximumSize(Math.max(1, capacity)).executor(Runnable::run).build();
    }

    /**
     * A byte-weighed shadow: {@code capacityBytes} of budget, each entry weighing its size in KiB (Caffeine's
     * weights are ints; KiB keeps a 2 TiB budget in range).
     */
    public TinyLfuPolicy(long capacityBytes, ToLongFunction<ExpertId> bytesOf) {
        this.shadow = Caffeine.newBuilder().maximumWeight(Math.max(1, capacityBytes >> 10))
                .weigher((ExpertId id, Boolean v) -> Math.clamp((bytesOf.applyAsLong(id) + 1023) >> 10, 1,
                        Integer.MAX_VALUE))
                .executor(Runnable::run).build();
    }

    @Override
    public String name() {
        return "tinylfu";
    }

    @Override
    public synchronized void recordAccess(ExpertId id, double weight) {
        shadow.getIfPresent(id); // feeds the frequency sketch and reorders on a hit
    }

    @Override
    public synchronized void inserted(ExpertId id) {
        resident.add(id);
        if (!held(id)) {
            shadow.put(id, Boolean.TRUE);
            shadow.cleanUp();
        }
    }

    @Override
    public synchronized void removed(ExpertId id) {
        resident.remove(id);
        shadow.invalidate(id);
    }

    /** Membership without touching Caffeine's access order or frequency sketch. */
    private boolean held(ExpertId id) {
        return shadow.policy().getIfPresentQuietly(id) != null;
    }

    @Override
    public synchronized ExpertId victim(ExpertId incoming, Predicate<ExpertId> evictable) {
        if (incoming != null && !held(incoming)) {
            // let Caffeine's admission run: it evicts its victim, or rejects the candidate
            shadow.put(incoming, Boolean.TRUE);
            shadow.cleanUp();
            if (!held(incoming)) {
                return incoming;
            }
        }
        for (ExpertId id : resident) {
            if (!id.equals(incoming) && !held(id) && evictable.test(id)) {
                return id;
            }
        }
        var eviction = shadow.policy().eviction().orElseThrow();
        for (ExpertId id : eviction.coldest(Integer.MAX_VALUE).keySet()) {
            if (!id.equals(incoming) && resident.contains(id) && evictable.test(id)) {
                return id;
            }
        }
        return null;
    }
}
