package io.strata.core.kv;

import java.lang.foreign.MemorySegment;

/**
 * A {@link KvPageView} over two segments that refuses reads after {@link #close()}; subclasses release whatever
 * pinned the page in {@link #released()}, called once.
 */
public class ClosablePageView implements KvPageView {
    private final int tokens;
    private final MemorySegment keys;
    private final MemorySegment values;
    private final Object what;
    private boolean closed;

    /** {@code what} names the page in the error for a read after close. */
    public ClosablePageView(int tokens, MemorySegment keys, MemorySegment values, Object what) {
        this.tokens = tokens;
        this.keys = keys;
        this.values = values;
        this.what = what;
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
            throw new IllegalStateException("KV page view of " + what + " is closed");
        }
    }

    @Override
    public final void close() {
        if (!closed) {
            closed = true;
            released();
        }
    }

    /** Called once, on the first close. */
    protected void released() {
    }
}
