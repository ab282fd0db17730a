package io.strata.loader.kv;

import io.strata.core.model.Tier;

/**
 * Where KV pages get their bytes counted: a reservation is taken before a page is allocated in a tier and
 * released after it is freed. The store uses {@link Tier#DEVICE} for the fast tier (raw pages) and
 * {@link Tier#HOST} for spilled, encoded pages; the disk tier is bounded by the spill directory's file system.
 */
public interface KvMemory {
    /** Reserves {@code bytes} in {@code tier} if it fits the budget; never crosses it. */
    boolean tryReserve(Tier tier, long bytes);

    void release(Tier tier, long bytes);

    /** Bytes currently reserved in {@code tier}. */
    long reserved(Tier tier);

    /** The budget of {@code tier} ({@link Long#MAX_VALUE} when unlimited). */
    long budget(Tier tier);
}
