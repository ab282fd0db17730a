package io.strata.core.model;

/** How Megatron-style tensor parallelism cuts a 2-D weight of checkpoint shape [out, in]. */
public enum TpSplit {
    /** Cut along {@code out}: each rank computes a slice of the outputs (q/k/v, gate/up). */
    COLUMN_PARALLEL,
    /** Cut along {@code in}: each rank consumes a slice of the inputs, results are summed (o, down). */
    ROW_PARALLEL,
    /** Every rank holds the whole tensor (embeddings, lm_head, router, norms, 1-D tensors). */
    REPLICATED
}
