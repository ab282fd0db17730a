package io.strata.core.kv;

import java.lang.foreign.MemorySegment;

/**
 * A pinned, readable KV page: {@code keys()} and {@code values()} are float32, [tokens][kvDim] row-major.
 * Reading after close throws {@link IllegalStateException}.
 */
public interface KvPageView extends AutoCloseable {
    int tokens();

    MemorySegment keys();

    MemorySegment values();

    @Override
    void close();
}
