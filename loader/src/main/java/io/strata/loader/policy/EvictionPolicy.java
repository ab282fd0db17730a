package io.strata.loader.policy;

import io.strata.core.model.ExpertId;
import java.util.function.Predicate;

/**
 * Decides which resident expert to drop. The same objects drive the runtime's expert caches and the trace
 * simulator, so the hit rates {@code trace-replay} reports are those of the code that runs. Residency and pins
 * are the cache's business; a policy only orders entries. Implementations are thread-safe.
 */
public interface EvictionPolicy {
    String name();

    /**
     * A demand access by compute (hit or miss), in routing order. {@code weight} is the router's gating
     * probability when known, else {@code NaN}. Prefetches are not accesses.
     */
    void recordAccess(ExpertId id, double weight);

    /** {@code id} became resident. */
    void inserted(ExpertId id);

    /** {@code id} is no longer resident. */
    void removed(ExpertId id);

    /**
     * The resident entry to drop, among those {@code evictable} accepts; {@code null} when none is.
     * {@code incoming} is the entry about to be inserted (or {@code null} when the cache only needs bytes);
     * returning it means "do not keep the incoming entry" (bypass).
     */
    ExpertId victim(ExpertId incoming, Predicate<ExpertId> evictable);
}
