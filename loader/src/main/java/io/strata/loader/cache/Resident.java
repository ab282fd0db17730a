package io.strata.loader.cache;

import io.strata.core.memory.Reservation;
import io.strata.core.model.ExpertId;
import io.strata.loader.tier.Block;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.CompletableFuture;

/**
 * One expert's copy in one tier. Guarded by its {@link TierCache}'s lock. Its memory is freed, and only then its
 * reservation released, when it is out of the cache and no pin is left.
 */
final class Resident {
    final ExpertId id;
    final long bytes;
    final CompletableFuture<Resident> loaded = new CompletableFuture<>();
    Block block;
    Reservation reservation;
    int pins;
    boolean ready;
    boolean removed;
    boolean freed;
    boolean prefetched;
    boolean used;

    Resident(ExpertId id, long bytes) {
        this.id = id;
        this.bytes = bytes;
    }

    MemorySegment data() {
        return block.segment();
    }

    /** Frees memory, then gives the bytes back to the ledger. Caller ensures no pin is left. */
    void free() {
        if (freed) {
            return;
        }
        freed = true;
        if (block != null) {
            block.free();
        }
        if (reservation != null) {
            reservation.close();
        }
    }
}
