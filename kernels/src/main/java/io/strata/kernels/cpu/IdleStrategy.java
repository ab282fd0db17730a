package io.strata.kernels.cpu;

import java.util.concurrent.locks.LockSupport;

/**
 * How a thread of a {@link WorkerTeam} waits for the next job (or for its team to finish one), in the manner of
 * Agrona's BackoffIdleStrategy: spin while work is likely to come within microseconds (the next matvec of a
 * decode step), then yield, then park. Spinning is bounded so that on a small machine a waiting compute thread
 * gives its core back quickly to I/O threads and other processes; parking is what it does between tokens and
 * while the decoder waits for an expert to be paged in. Not thread-safe: one instance per waiting thread.
 */
final class IdleStrategy {
    /** Busy-wait iterations (Thread.onSpinWait) before yielding: a few microseconds. */
    static final int SPINS = 2_000;
    /** Thread.yield calls before parking. */
    static final int YIELDS = 50;
    private static final long MIN_PARK_NANOS = 1_000;
    private static final long MAX_PARK_NANOS = 1_000_000;

    private int spins;
    private int yields;
    private long parkNanos = MIN_PARK_NANOS;

    /** Back to spinning: call after useful work arrived. */
    void reset() {
        spins = 0;
        yields = 0;
        parkNanos = MIN_PARK_NANOS;
    }

    /** True while the next {@link #idle} would not park (the caller may then skip announcing that it sleeps). */
    boolean spinning() {
        return spins < SPINS || yields < YIELDS;
    }

    /**
     * One wait step. Spins, then yields; then parks: for a bounded, growing time when {@code indefinitely} is
     * false (the caller re-checks its condition), or until unparked when true (the caller has announced that it
     * sleeps, so whoever changes the condition unparks it).
     */
    void idle(boolean indefinitely) {
        if (spins < SPINS) {
            spins++;
            Thread.onSpinWait();
        } else if (yields < YIELDS) {
            yields++;
            Thread.yield();
        } else if (indefinitely) {
            LockSupport.park(this);
        } else {
            LockSupport.parkNanos(this, parkNanos);
            parkNanos = Math.min(MAX_PARK_NANOS, parkNanos * 2);
        }
    }
}
