package io.strata.core.memory;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Bytes granted by a {@link MemoryLedger}. Take it before allocating, close it after freeing. Closing twice is
 * harmless, so a reservation can sit in a try-with-resources and still be released early.
 */
public final class Reservation implements AutoCloseable {
    private final MemoryLedger ledger;
    private final Pool pool;
    private final long bytes;
    private final AtomicBoolean released = new AtomicBoolean();

    Reservation(MemoryLedger ledger, Pool pool, long bytes) {
        this.ledger = ledger;
        this.pool = pool;
        this.bytes = bytes;
    }

    public Pool pool() {
        return pool;
    }

    public long bytes() {
        return bytes;
    }

    public MemoryLedger ledger() {
        return ledger;
    }

    public boolean isReleased() {
        return released.get();
    }

    @Override
    public void close() {
        if (released.compareAndSet(false, true)) {
            ledger.release(pool, bytes);
        }
    }

    @Override
    public String toString() {
        return ledger.tier() + "/" + pool + ":" + bytes + (released.get() ? " (released)" : "");
    }
}
