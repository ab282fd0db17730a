package io.strata.loader.tier;

/**
 * Where a tier's bytes physically live. Budgets are the ledger's job; an allocator may still refuse a request
 * the ledger granted (a fixed-capacity device can be fragmented), by returning {@code null}.
 */
public interface TierMemory extends AutoCloseable {
    /** A block of {@code bytes}, 64-byte aligned, or {@code null} when no contiguous room is left. */
    Block allocate(long bytes);

    @Override
    void close();
}
