package io.strata.loader.cache;

import io.strata.core.memory.BudgetExceededException;
import io.strata.core.memory.Evictor;
import io.strata.core.memory.MemoryLedger;
import io.strata.core.memory.Pool;
import io.strata.core.memory.Reservation;
import io.strata.core.model.ExpertId;
import io.strata.core.model.Tier;
import io.strata.core.telemetry.PrefetchCounters;
import io.strata.core.telemetry.TierCounters;
import io.strata.loader.policy.EvictionPolicy;
import io.strata.loader.source.ReadQueue;
import io.strata.loader.tier.Block;
import io.strata.loader.tier.TierMemory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * The experts resident in one tier (device or host). Bytes are reserved in the tier's ledger before memory is
 * allocated and released after it is freed; when a reservation does not fit, the ledger calls back into
 * {@link #evict(long)}, which drops unpinned entries in the order the {@link EvictionPolicy} chooses. A pinned
 * entry is never chosen; an entry removed while pinned (only on {@link #close()}) keeps its memory until its last
 * pin goes. Concurrent requests for the same expert share one load.
 *
 * <p>Why our own pin counts rather than Caffeine's 0-weight trick: the ledger must stay the only authority over
 * bytes and frees must happen synchronously when the ledger asks, which a Caffeine-owned store (asynchronous
 * maintenance, re-weighing on every pin) does not give. Caffeine still makes the W-TinyLFU decisions when that
 * policy is chosen ({@link io.strata.loader.policy.TinyLfuPolicy}).
 */
public final class TierCache implements Evictor, AutoCloseable {
    /** How a load may make room. */
    public enum Mode {
        /** Compute needs it now: evict any unpinned entry. */
        DEMAND,
        /** A guess: never evict a pinned, loading, still-unused prefetched or protected entry; give up instead. */
        PREFETCH,
        /** Chosen by routing, pinned next: makes room as PREFETCH does, but is not counted as a prefetch. */
        AHEAD
    }

    private final Tier tier;
    private final MemoryLedger ledger;
    private final TierMemory memory;
    private final EvictionPolicy policy;
    private final TierCounters counters;
    private final PrefetchCounters prefetchCounters;
    private final Function<ExpertId, Long> sizeOf;
    private final Filler filler;
    private final ReentrantLock lock = new ReentrantLock();
    private final Map<ExpertId, Resident> entries = new HashMap<>();
    private boolean closed;
    private volatile boolean guessesYield = true;
    private final Object busyLock = new Object();
    private int fillsInFlight; // guarded by busyLock
    private long busySince; // guarded by busyLock
    private long busyNanos; // guarded by busyLock

    public TierCache(Tier tier, MemoryLedger ledger, TierMemory memory, EvictionPolicy policy, TierCounters counters,
                     PrefetchCounters prefetchCounters, Function<ExpertId, Long> sizeOf, Filler filler) {
        this.tier = tier;
        this.ledger = ledger;
        this.memory = memory;
        this.policy = policy;
        this.counters = counters;
        this.prefetchCounters = prefetchCounters;
        this.sizeOf = sizeOf;
        this.filler = filler;
        ledger.registerEvictor(Pool.EXPERTS, this);
    }

    public Tier tier() {
        return tier;
    }

    /**
     * Whether prefetch guesses' reads yield to the reads compute waits for (default); off, every load's reads
     * queue first come, first served.
     */
    public void guessesYield(boolean v) {
        guessesYield = v;
    }

    public MemoryLedger ledger() {
        return ledger;
    }

    public EvictionPolicy policy() {
        return policy;
    }

    /**
     * Pins {@code id} in this tier, loading it from below on a miss; blocks until resident.
     *
     * @param weight the router's probability for this choice when known, else NaN (fed to the policy)
     * @return the pinned copy; the caller must {@link #unpin} it exactly once
     */
    Resident pin(ExpertId id, double weight) {
        long t0 = System.nanoTime();
        boolean first = true;
        while (true) {
            Resident r;
            boolean mine = false;
            lock.lock();
            try {
                ensureOpen();
                if (first) {
                    policy.recordAccess(id, weight);
                }
                r = entries.get(id);
                if (r != null && r.isResident()) {
                    if (r.pin()) {
                        prefetchCounters.hit();
                    }
                    boolean readAhead = r.takeAhead(); // it was not here when routing chose it: a miss
                    if (first) {
                        if (readAhead) {
                            counters.miss();
                        } else {
                            counters.hit();
                        }
                    }
                    if (!first) {
                        counters.stall(System.nanoTime() - t0);
                    }
                    return r;
                }
                if (r == null) {
                    r = Resident.forDemand(id, sizeOf.apply(id));
                    entries.put(id, r);
                    mine = true;
                }
                if (first) {
                    counters.miss();
                }
            } finally {
                lock.unlock();
            }
            first = false;
            if (mine) {
                load(r, Mode.DEMAND, x -> false);
                counters.stall(System.nanoTime() - t0);
                return r;
            }
            r.ticket.promote(); // compute waits for it now: its reads go ahead of guesses
            try {
                r.loaded.join(); // someone else (maybe a prefetch) is loading it: share that load
            } catch (CompletionException e) {
                // that load failed; the loop retries with a load of our own
            }
        }
    }

    /**
     * Loads {@code id} unpinned as a prefetch, on the calling thread (the prefetch scheduler's I/O pool), if it
     * is neither resident nor loading; blocks until loaded or refused.
     *
     * @return true when this call loaded it, false when it was already there or there was no room
     */
    public boolean prefetch(ExpertId id, Predicate<ExpertId> protectedIds) {
        Resident r;
        lock.lock();
        try {
            if (closed || entries.containsKey(id)) {
                return false;
            }
            r = Resident.forPrefetch(id, sizeOf.apply(id));
            entries.put(id, r);
        } finally {
            lock.unlock();
        }
        try {
            load(r, Mode.PREFETCH, protectedIds);
            return true;
        } catch (BudgetExceededException e) {
            return false;
        }
    }

    /**
     * Loads {@code id} unpinned because the layer being computed has chosen it and its pin follows shortly (the
     * prefetch scheduler's readers), so that a layer's misses are read together; makes room as a prefetch does
     * (never evicting pinned, loading, unused prefetched or protected entries) but counts as the tier's miss at the
     * pin, not as a prefetch. Blocks until loaded or refused; true when this call loaded it.
     */
    public boolean loadAhead(ExpertId id, Predicate<ExpertId> protectedIds) {
        Resident r;
        lock.lock();
        try {
            if (closed || entries.containsKey(id)) {
                return false;
            }
            r = Resident.forAhead(id, sizeOf.apply(id));
            entries.put(id, r);
        } finally {
            lock.unlock();
        }
        try {
            load(r, Mode.AHEAD, protectedIds);
            return true;
        } catch (BudgetExceededException e) {
            return false;
        }
    }

    /**
     * Routing has chosen {@code id}: if a guess is loading it, its queued reads go ahead of other guesses now.
     * Returns whether such a load was found.
     */
    public boolean promote(ExpertId id) {
        lock.lock();
        try {
            Resident r = entries.get(id);
            if (r != null && r.isLoading()) {
                r.ticket.promote();
                return true;
            }
            return false;
        } finally {
            lock.unlock();
        }
    }

    /**
     * The real routing of {@code id}'s layer did not choose it: if a guess is loading it and nobody has asked for
     * it since, its reads not yet started are dropped and the load fails (its block and reservation are given
     * back); reads already running finish. Returns whether a load was cancelled.
     */
    public boolean cancelPrefetch(ExpertId id) {
        lock.lock();
        try {
            Resident r = entries.get(id);
            if (r == null || !r.isLoading() || !r.isSpeculative() || r.ticket.isUrgent()) {
                return false;
            }
            r.ticket.cancel();
            return true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * A future that completes when {@code id} is resident here, or null when it is neither resident nor loading
     * (the caller's pin will load it). Never blocks.
     */
    public CompletableFuture<?> whenResident(ExpertId id) {
        lock.lock();
        try {
            Resident r = entries.get(id);
            if (r == null) {
                return null;
            }
            return r.isResident() ? CompletableFuture.completedFuture(r) : r.loaded;
        } finally {
            lock.unlock();
        }
    }

    /** Whether {@code id} is resident (ready) here now. */
    public boolean contains(ExpertId id) {
        lock.lock();
        try {
            Resident r = entries.get(id);
            return r != null && r.isResident();
        } finally {
            lock.unlock();
        }
    }

    private void load(Resident r, Mode mode, Predicate<ExpertId> protectedIds) {
        Reservation res = null;
        Block block = null;
        try {
            res = mode == Mode.DEMAND ? reserveForDemand(r) : reserveForPrefetch(r, protectedIds);
            Mode room = mode == Mode.AHEAD ? Mode.PREFETCH : mode;
            lock.lock();
            try {
                if (r.isLoading() && !r.isLoadingWithReservation()) {
                    r.reserved(res); // from here its bytes count as pinned (loading)
                }
            } finally {
                lock.unlock();
            }
            if (!guessesYield) {
                r.ticket.promote();
            }
            if (mode == Mode.PREFETCH) {
                prefetchCounters.issued(); // counted before anyone can use it, so hits never outrun issues
            }
            block = allocate(r.bytes, room, protectedIds);
            long t0 = busy(+1);
            Tier from;
            try {
                Block b = block;
                from = ScopedValue.where(ReadQueue.TICKET, r.ticket)
                        .call(() -> filler.fill(r.id, b.segment()));
            } catch (IOException e) {
                throw new UncheckedIOException(tier + " tier: cannot load expert " + r.id + ": " + e.getMessage(), e);
            } finally {
                busy(-1);
            }
            counters.pageIn(r.id.toString(), from, r.bytes, System.nanoTime() - t0);
            lock.lock();
            try {
                r.loaded(block);
                if (closed) { // closed meanwhile: nobody else will free it
                    entries.remove(r.id, r);
                    r.retire();
                } else {
                    policy.inserted(r.id);
                }
            } finally {
                lock.unlock();
            }
            r.loaded.complete(r);
        } catch (RuntimeException | Error e) {
            lock.lock();
            try {
                entries.remove(r.id, r);
                if (r.isLoading()) {
                    if (!r.isLoadingWithReservation() && res != null) {
                        r.reserved(res);
                    }
                    r.abandon(block); // frees the block, then gives the reservation back
                } else {
                    if (block != null) {
                        block.free();
                    }
                    if (res != null) {
                        res.close();
                    }
                }
            } finally {
                lock.unlock();
            }
            r.loaded.completeExceptionally(e);
            throw e;
        }
    }

    /** Counts a fill starting (+1) or ending (-1); returns now. */
    private long busy(int delta) {
        long now = System.nanoTime();
        synchronized (busyLock) {
            if (delta > 0 && fillsInFlight++ == 0) {
                busySince = now;
            } else if (delta < 0 && --fillsInFlight == 0) {
                busyNanos += now - busySince;
            }
        }
        return now;
    }

    /**
     * Wall time during which at least one fill of this tier was in flight. Bytes paged in divided by it is the
     * tier's page-in bandwidth with concurrent reads counted once (the per-fill times in the counters add up
     * overlapping reads).
     */
    public long busyNanos() {
        synchronized (busyLock) {
            return busyNanos + (fillsInFlight > 0 ? System.nanoTime() - busySince : 0);
        }
    }

    /**
     * Reserves with eviction; when that fails only because other loads hold bytes in flight (a prefetch, say),
     * waits for one of them to finish and tries again, and when a concurrent prefetch took the bytes the eviction
     * freed, tries again too (its entry has become evictable): loads finish, so this does not hang.
     */
    private Reservation reserveForDemand(Resident r) {
        for (int attempt = 0; ; attempt++) {
            try {
                return ledger.reserve(Pool.EXPERTS, r.bytes);
            } catch (BudgetExceededException e) {
                Resident other = null;
                boolean evictableNow = false;
                lock.lock();
                try {
                    for (Resident x : entries.values()) {
                        if (x == r) {
                            continue;
                        }
                        if (x.isLoadingWithReservation()) {
                            other = x;
                            break;
                        }
                        evictableNow |= x.isEvictable();
                    }
                } finally {
                    lock.unlock();
                }
                if (attempt >= 10_000 || (other == null && !evictableNow)) {
                    throw e;
                }
                if (other != null) {
                    try {
                        other.loaded.join();
                    } catch (CompletionException ignored) {
                        // its bytes were released either way
                    }
                }
                // else a prefetch landed after the ledger's eviction pass and took the freed bytes: its entry is
                // ready and unpinned now, so the next attempt can evict it
            }
        }
    }

    private Reservation reserveForPrefetch(Resident r, Predicate<ExpertId> protectedIds) {
        Reservation res = tryReserveVisibly(r);
        if (res == null) {
            evict(r.bytes - ledger.available(), Mode.PREFETCH, protectedIds);
            res = tryReserveVisibly(r);
        }
        if (res == null) {
            throw new BudgetExceededException(tier.name().toLowerCase(), Pool.EXPERTS, r.bytes, ledger.available(),
                    pinnedBytes(), "prefetch does not evict needed experts");
        }
        return res;
    }

    /**
     * Reserves without evicting and records the reservation on the entry in one step under the cache lock, so a
     * demand load that finds the budget full always sees which load holds the bytes (and waits for it). Safe
     * under the lock: tryReserve never calls back into evictors.
     */
    private Reservation tryReserveVisibly(Resident r) {
        lock.lock();
        try {
            Reservation res = ledger.tryReserve(Pool.EXPERTS, r.bytes);
            if (res != null) {
                r.reserved(res);
            }
            return res;
        } finally {
            lock.unlock();
        }
    }

    /** The ledger granted the bytes; the allocator may still be fragmented: evict until a block fits. */
    private Block allocate(long bytes, Mode mode, Predicate<ExpertId> protectedIds) {
        while (true) {
            Block b = memory.allocate(bytes);
            if (b != null) {
                return b;
            }
            if (evict(bytes, mode, protectedIds) == 0) {
                throw new BudgetExceededException(tier.name().toLowerCase(), Pool.EXPERTS, bytes,
                        ledger.available(), pinnedBytes(), "no contiguous block of that size is free (fragmented)");
            }
        }
    }

    void unpin(Resident r) {
        lock.lock();
        try {
            try {
                r.unpin();
            } catch (IllegalStateException e) {
                throw new IllegalStateException(tier + " tier: " + e.getMessage(), e);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Called by the ledger when a reservation does not fit. */
    @Override
    public long evict(long bytes) {
        return evict(bytes, Mode.DEMAND, x -> false);
    }

    private long evict(long bytes, Mode mode, Predicate<ExpertId> protectedIds) {
        long freed = 0;
        lock.lock();
        try {
            Predicate<ExpertId> evictable = id -> {
                Resident r = entries.get(id);
                if (r == null || !r.isEvictable()) {
                    return false;
                }
                return mode == Mode.DEMAND || (!r.isSpeculative() && !protectedIds.test(id));
            };
            List<Resident> victims = new ArrayList<>();
            while (freed < bytes) {
                ExpertId v = policy.victim(null, evictable);
                if (v == null) {
                    break;
                }
                Resident r = entries.remove(v);
                policy.removed(v);
                victims.add(r);
                freed += r.bytes;
            }
            for (Resident r : victims) {
                counters.evicted(r.id.toString(), r.bytes);
                if (r.isSpeculative()) {
                    prefetchCounters.wasted();
                }
                r.retire(); // unpinned (evictable), so it dies here
            }
        } finally {
            lock.unlock();
        }
        return freed;
    }

    @Override
    public long pinnedBytes() {
        lock.lock();
        try {
            long n = 0;
            for (Resident r : entries.values()) {
                if (r.holdsUnevictableBytes()) {
                    n += r.bytes;
                }
            }
            return n;
        } finally {
            lock.unlock();
        }
    }

    public int size() {
        lock.lock();
        try {
            return entries.size();
        } finally {
            lock.unlock();
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException(tier + " tier cache is closed");
        }
    }

    /** Drops every entry; pinned ones are freed when their last pin goes. */
    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            for (Resident r : List.copyOf(entries.values())) {
                if (!r.isResident()) {
                    continue; // its loader retires it on completion
                }
                entries.remove(r.id);
                r.retire();
            }
        } finally {
            lock.unlock();
        }
        ledger.unregisterEvictor(Pool.EXPERTS, this);
    }
}
