package io.strata.loader.kv;

import io.strata.core.kv.ClosablePageView;
import java.lang.foreign.MemorySegment;

/** A view of a fast-tier page, pinned against eviction until closed. */
final class PinnedPage extends ClosablePageView {
    private final PagedKvStore store;
    private final KvPage page;

    PinnedPage(PagedKvStore store, KvPage page, int tokens, MemorySegment keys, MemorySegment values) {
        super(tokens, keys, values, page);
        this.store = store;
        this.page = page;
    }

    @Override
    protected void released() {
        store.unpin(page);
    }
}
