package io.strata.core.telemetry;

import io.strata.core.model.Tier;
import java.util.concurrent.atomic.LongAdder;

/**
 * Live, lock-free counters of one tier. {@code bytesIn} counts bytes copied into the tier (page-ins),
 * {@code bytesOut} bytes handed down from it to a faster tier; {@code ioNanos} is the time spent moving
 * {@code bytesIn}, from which bandwidth follows.
 */
public final class TierCounters {
    private final Tier tier;
    private final LongAdder hits = new LongAdder();
    private final LongAdder misses = new LongAdder();
    private final LongAdder evictions = new LongAdder();
    private final LongAdder bytesIn = new LongAdder();
    private final LongAdder bytesOut = new LongAdder();
    private final LongAdder ioNanos = new LongAdder();
    private final LongAdder stallNanos = new LongAdder();

    public TierCounters(Tier tier) {
        this.tier = tier;
    }

    public Tier tier() {
        return tier;
    }

    public void hit() {
        hits.increment();
    }

    public void miss() {
        misses.increment();
    }

    public void eviction() {
        evictions.increment();
    }

    /** A page-in of {@code bytes} into this tier that took {@code nanos}; also emits a JFR event when enabled. */
    public void pageIn(String what, Tier from, long bytes, long nanos) {
        bytesIn.add(bytes);
        ioNanos.add(nanos);
        PageInEvent.emit(what, from, tier, bytes, nanos);
        PageInObservers.fire(from, tier, bytes, nanos);
    }

    public void bytesOut(long bytes) {
        bytesOut.add(bytes);
    }

    public void evicted(String what, long bytes) {
        evictions.increment();
        EvictionEvent.emit(what, tier, bytes);
    }

    public void stall(long nanos) {
        stallNanos.add(nanos);
    }

    public TierStats snapshot(long highWater, long budget, long used) {
        return new TierStats(tier, hits.sum(), misses.sum(), evictions.sum(), bytesIn.sum(), bytesOut.sum(),
                ioNanos.sum(), stallNanos.sum(), highWater, budget, used);
    }
}
