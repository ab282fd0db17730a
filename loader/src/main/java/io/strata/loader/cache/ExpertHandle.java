package io.strata.loader.cache;

import io.strata.core.model.ExpertId;
import io.strata.core.model.ExpertProjection;
import io.strata.core.model.Tier;
import io.strata.core.weights.ExpertWeights;
import io.strata.core.weights.TensorView;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A pinned expert: its memory is neither evicted nor freed while the handle is open. The handle's methods throw
 * {@link IllegalStateException} after {@link #close()}. Views are slices of the resident copy's memory, which
 * lives in an arena of its own (host) or behind a guard arena (device) that is closed when the copy is freed: a
 * view kept past its handle reads the same bytes while the copy is cached and throws once it is evicted, never
 * touching freed or reused memory. (A shared arena per handle would give the same error earlier, but closing a
 * shared arena costs a handshake with every thread, hundreds of microseconds per expert access.) A handle dropped
 * without close is found by {@link HandleLeakDetector}, reported and unpinned.
 */
public final class ExpertHandle implements ExpertWeights {
    private final TierCache cache;
    private final Resident resident;
    private final ExpertLayout layout;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final HandleLeakDetector.Tracker tracker;

    private ExpertHandle(TierCache cache, Resident resident, ExpertLayout layout) {
        this.cache = cache;
        this.resident = resident;
        this.layout = layout;
        this.tracker = HandleLeakDetector.track(this, cache, resident);
    }

    /** Pins {@code layout.id()} in {@code cache}, loading it if needed. */
    public static ExpertHandle open(TierCache cache, ExpertLayout layout, double weight) {
        Resident r = cache.pin(layout.id(), weight);
        try {
            return new ExpertHandle(cache, r, layout);
        } catch (RuntimeException | Error e) {
            cache.unpin(r);
            throw e;
        }
    }

    @Override
    public ExpertId id() {
        return layout.id();
    }

    public Tier tier() {
        return cache.tier();
    }

    /** The whole group's bytes (gate, up, down with padding), valid while the handle is open. */
    public MemorySegment bytes() {
        checkOpen();
        return resident.data();
    }

    @Override
    public TensorView tensor(ExpertProjection projection) {
        checkOpen();
        ExpertLayout.Part p = layout.parts().get(projection);
        if (p == null) {
            throw new IllegalArgumentException("expert " + id() + " has no " + projection + " projection (has "
                    + layout.parts().keySet() + ")");
        }
        MemorySegment data = resident.data().asSlice(p.offset(), p.size());
        return new TensorView(p.tensorName(), data, p.dtype(), p.shape(), p.layout());
    }

    public boolean isOpen() {
        return !closed.get();
    }

    private void checkOpen() {
        if (closed.get()) {
            throw new IllegalStateException("expert " + id() + " handle (" + cache.tier() + " tier) is already closed");
        }
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            if (tracker != null) {
                tracker.closed();
            }
            cache.unpin(resident);
        }
        java.lang.ref.Reference.reachabilityFence(this); // not collected (and reported leaked) while closing
    }
}
