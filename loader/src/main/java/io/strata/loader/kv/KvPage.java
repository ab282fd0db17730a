package io.strata.loader.kv;

import io.strata.core.memory.Reservation;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.CompletableFuture;

/**
 * One page of one layer of one sequence and where its bytes are. All fields are guarded by the store lock.
 * A page may have several copies at once (a restored page keeps its disk record); its tier is the fastest copy.
 */
final class KvPage {
    final PagedKvSequence seq;
    final int layer;
    final int index;
    int tokens;

    /** Raw floats, keys [tokensPerPage][kvDim] then values; null when not in the fast tier. */
    PageBlock block;
    MemorySegment fast;

    /** Encoded record in host memory (heap bytes reserved in the host ledger); null when none. */
    byte[] host;
    Reservation hostReservation;

    /** Encoded record in the sequence's spill file; offset -1 when none. */
    long diskOffset = -1;
    int diskLength;

    int pins;
    /** Set while the page is being brought back into the fast tier. */
    CompletableFuture<Void> restoring;
    /** Restored by prefetch and not yet asked for. */
    boolean prefetched;

    KvPage(PagedKvSequence seq, int layer, int index) {
        this.seq = seq;
        this.layer = layer;
        this.index = index;
    }

    boolean inFast() {
        return fast != null;
    }

    boolean onDisk() {
        return diskOffset >= 0;
    }

    @Override
    public String toString() {
        return "sequence " + seq.id() + " layer " + layer + " page " + index;
    }
}
