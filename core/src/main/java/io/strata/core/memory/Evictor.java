package io.strata.core.memory;

/**
 * Something holding reservations of a ledger that it can give back on demand (a cache dropping unpinned entries,
 * a KV cache spilling pages). Called by {@link MemoryLedger#reserve} without the ledger's lock held.
 */
public interface Evictor {
    /**
     * Frees at least {@code bytes} if it can, releasing the matching reservations before returning.
     *
     * @return bytes actually released (0 when everything left is pinned)
     */
    long evict(long bytes);

    /** Bytes this evictor holds that it cannot give back right now (pinned); reported in errors. */
    long pinnedBytes();
}
