package io.strata.core.memory;

/** What a reservation is for. Each tier's ledger may cap each pool separately inside the tier budget. */
public enum Pool {
    /** Dense weights (attention, norms, embeddings): resident for a model's lifetime. */
    WEIGHTS,
    /** Cached experts: evictable. */
    EXPERTS,
    /** Attention KV cache pages: evictable by spilling. */
    KV,
    /** Short-lived working memory (activations, staging buffers). */
    SCRATCH
}
