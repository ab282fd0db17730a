package io.strata.loader.kv;

import io.strata.core.memory.Reservation;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** Off-heap memory for one raw page and the ledger reservation that pays for it. */
record PageBlock(Arena arena, MemorySegment segment, Reservation reservation) {

    static PageBlock allocate(Reservation reservation) {
        Arena arena = Arena.ofShared();
        return new PageBlock(arena, arena.allocate(reservation.bytes(), 64), reservation);
    }

    long bytes() {
        return reservation.bytes();
    }

    /** Frees the memory, then releases the reservation. */
    void free() {
        arena.close();
        reservation.close();
    }
}
