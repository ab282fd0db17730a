package io.strata.loader.kv;

import io.strata.core.kv.KvPageView;
import java.lang.foreign.MemorySegment;

/** A {@link KvPageView} over a fast-tier page, pinned against eviction until closed. */
final class PinnedPage implements KvPageView {
    private final PagedKvStore store;
    private final KvPage page;
    private final int tokens;
    private final MemorySegment keys;
    private final MemorySegment values;
    private boolean closed;

    PinnedPage(PagedKvStore store, KvPage page, int tokens, MemorySegment keys, MemorySegment values) {
        this.store = store;
        this.page = page;
        this.tokens = tokens;
        this.keys = keys;
        this.values = values;
    }

    @Override
    public int tokens() {
        return tokens;
    }

    @Override
    public MemorySegment keys() {
        check();
        return keys;
    }

    @Override
    public MemorySegment values() {
        check();
        return values;
    }

    private void check() {
        if (closed) {
            throw new IllegalStateException("KV page view of " + page + " is closed");
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            store.unpin(page);
        }
    }
}
