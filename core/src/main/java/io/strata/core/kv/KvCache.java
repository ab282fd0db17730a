package io.strata.core.kv;

/**
 * One sequence's attention KV cache as the decoder sees it: per layer, an append-only list of positions, each
 * holding {@link #kvDim()} key floats and as many value floats, grouped in pages of {@link #tokensPerPage()}
 * positions. Defined in core so kernels can attend over pages that the loader may have spilled and restored.
 * Implementations must return exactly the floats appended (bit-exact), wherever the page has been.
 */
public interface KvCache extends AutoCloseable {
    /** kv_heads x head_dim. */
    int kvDim();

    int tokensPerPage();

    /** Positions stored so far for {@code layer}. */
    int length(int layer);

    /** Stores the key and value rows of the next position of {@code layer}. */
    void append(int layer, float[] key, float[] value);

    /**
     * Page {@code page} of {@code layer}, readable until the view is closed (it is pinned in memory meanwhile).
     * A page may hold fewer than tokensPerPage positions only if it is the last one.
     */
    KvPageView page(int layer, int page);

    /** Frees every page of this sequence in every tier. */
    @Override
    void close();
}
