package io.strata.loader.tier;

/**
 * Where a tier's bytes physically live. Budgets are the ledger's job; an allocator may still refuse a request
 * the ledger granted (a fixed-capacity device can be fragmented), by returning {@code null}. The contract every
 * implementation keeps (and {@code TierMemoryContractTest} checks): blocks are at least 64-byte aligned, exactly
 * the size asked for, never overlap while live, and once freed their segments throw instead of reaching memory
 * that may be reused; {@link Block#free()} is idempotent; after {@link #close()} new blocks are refused while
 * live ones stay valid until freed.
 */
public interface TierMemory extends AutoCloseable {
    /** A block of {@code bytes}, 64-byte aligned, or {@code null} when no contiguous room is left. */
    Block allocate(long bytes);

    /** Refuses new blocks ({@link IllegalStateException}); blocks already handed out stay valid until freed. */
    @Override
    void close();
}
