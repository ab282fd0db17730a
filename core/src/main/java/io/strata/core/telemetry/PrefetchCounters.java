package io.strata.core.telemetry;

import java.util.concurrent.atomic.LongAdder;

/**
 * How well prefetching paid: {@code issued} loads started on a hint, {@code hits} prefetched experts later used
 * by compute, {@code wasted} prefetched experts evicted (or dropped) before any use, {@code skipped} hints not
 * acted on (already resident, queue full, or no room without evicting something needed), {@code cancelled}
 * guesses dropped before all their reads ran because the layer's real routing did not choose them.
 */
public final class PrefetchCounters {
    private final LongAdder issued = new LongAdder();
    private final LongAdder hits = new LongAdder();
    private final LongAdder wasted = new LongAdder();
    private final LongAdder skipped = new LongAdder();
    private final LongAdder cancelled = new LongAdder();

    public void cancelled() {
        cancelled.increment();
    }

    public void issued() {
        issued.increment();
    }

    public void hit() {
        hits.increment();
    }

    public void wasted() {
        wasted.increment();
    }

    public void skipped() {
        skipped.increment();
    }

    public PrefetchStats snapshot() {
        return new PrefetchStats(issued.sum(), hits.sum(), wasted.sum(), skipped.sum(), cancelled.sum());
    }
}
