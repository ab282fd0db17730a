package io.strata.loader.cache;

import io.strata.core.memory.Reservation;
import io.strata.core.model.ExpertId;
import io.strata.loader.tier.Block;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.CompletableFuture;

/**
 * One expert's copy in one tier, with its life as explicit states (Caffeine's alive/retired/dead):
 * <pre>
 *   LOADING --loaded--> RESIDENT --retire--> RETIRED --last unpin--> DEAD
 *      |                    \______retire, unpinned_____________________^
 *      \--abandon (load failed)--------------------------------------------^
 * </pre>
 * LOADING: in the cache's map, its bytes reserved (once {@link #reserved}) and being filled; concurrent requests
 * wait on {@link #loaded}. RESIDENT: readable, pinnable, evictable when unpinned. RETIRED: out of the map (evicted
 * or the cache closed) while pins remain: its memory stays valid and counted until the last pin goes. DEAD: the
 * block is freed and only then the reservation given back. Guarded by its {@link TierCache}'s lock; an illegal
 * transition throws {@link IllegalStateException}.
 */
final class Resident {
    enum State { LOADING, RESIDENT, RETIRED, DEAD }

    final ExpertId id;
    final long bytes;
    final CompletableFuture<Resident> loaded = new CompletableFuture<>();
    private State state = State.LOADING;
    private Block block;
    private Reservation reservation;
    private int pins;
    /** Loaded by a prefetch and not used since: a hit on it counts for the prefetcher, an eviction as waste. */
    private boolean speculative;
    /** Loaded ahead of a pin that routing has already decided: its first pin is the tier's miss, not a hit. */
    private boolean ahead;
    /** The reads of this copy's load: urgent unless it is a guess nobody waits for yet. */
    final io.strata.loader.source.ReadQueue.Ticket ticket;

    private Resident(ExpertId id, long bytes, int pins, boolean speculative) {
        this.id = id;
        this.bytes = bytes;
        this.pins = pins;
        this.speculative = speculative;
        this.ticket = speculative ? io.strata.loader.source.ReadQueue.Ticket.background()
                : io.strata.loader.source.ReadQueue.Ticket.urgent();
    }

    /** A copy compute asked for: born pinned once, by the asker. */
    static Resident forDemand(ExpertId id, long bytes) {
        return new Resident(id, bytes, 1, false);
    }

    /** A copy loaded on a guess: unpinned, speculative until first used. */
    static Resident forPrefetch(ExpertId id, long bytes) {
        return new Resident(id, bytes, 0, true);
    }

    /** A copy the current layer's routing chose, read before its pin: unpinned, not a guess. */
    static Resident forAhead(ExpertId id, long bytes) {
        Resident r = new Resident(id, bytes, 0, false);
        r.ahead = true;
        return r;
    }

    /** Whether this copy was read ahead and not pinned since; clears it. */
    boolean takeAhead() {
        boolean a = ahead;
        ahead = false;
        return a;
    }

    State state() {
        return state;
    }

    boolean isResident() {
        return state == State.RESIDENT;
    }

    boolean isLoading() {
        return state == State.LOADING;
    }

    /** A load whose bytes are already reserved: a demand load short of room waits for it. */
    boolean isLoadingWithReservation() {
        return state == State.LOADING && reservation != null;
    }

    boolean isSpeculative() {
        return speculative;
    }

    /** Resident and unpinned: the policy may choose it. */
    boolean isEvictable() {
        return state == State.RESIDENT && pins == 0;
    }

    /** Bytes that eviction cannot free now: reserved and either pinned or still loading. */
    boolean holdsUnevictableBytes() {
        return reservation != null && (pins > 0 || state == State.LOADING);
    }

    void reserved(Reservation r) {
        require(State.LOADING, "reserve");
        this.reservation = r;
    }

    /** LOADING -> RESIDENT: the block holds the bytes. */
    void loaded(Block b) {
        require(State.LOADING, "finish loading");
        this.block = b;
        this.state = State.RESIDENT;
    }

    /**
     * Pins a resident copy.
     *
     * @return whether this is the first use of a prefetched copy
     */
    boolean pin() {
        require(State.RESIDENT, "pin");
        pins++;
        boolean firstUseOfPrefetch = speculative;
        speculative = false;
        return firstUseOfPrefetch;
    }

    /** Gives back one pin; the last pin of a retired copy frees it. */
    void unpin() {
        if (pins <= 0 || (state != State.RESIDENT && state != State.RETIRED && state != State.LOADING)) {
            throw new IllegalStateException("expert " + id + " unpinned more often than pinned (" + state + ")");
        }
        pins--;
        if (pins == 0 && state == State.RETIRED) {
            die();
        }
    }

    /** RESIDENT -> RETIRED (taken out of the cache), and on to DEAD at once when unpinned. */
    void retire() {
        require(State.RESIDENT, "retire");
        state = State.RETIRED;
        if (pins == 0) {
            die();
        }
    }

    /** LOADING -> DEAD: the load failed; frees what it had taken ({@code partial} may be null). */
    void abandon(Block partial) {
        require(State.LOADING, "abandon");
        this.block = partial;
        die();
    }

    MemorySegment data() {
        if (state != State.RESIDENT && state != State.RETIRED) {
            throw new IllegalStateException("expert " + id + " is " + state + ": no bytes to read");
        }
        return block.segment();
    }

    /** Frees memory, then gives the bytes back to the ledger. */
    private void die() {
        state = State.DEAD;
        if (block != null) {
            block.free();
        }
        if (reservation != null) {
            reservation.close();
        }
    }

    private void require(State expected, String what) {
        if (state != expected) {
            throw new IllegalStateException("expert " + id + ": cannot " + what + " a copy that is " + state);
        }
    }

    @Override
    public String toString() {
        return id + " " + state + " pins=" + pins;
    }
}
