package io.strata.kernels.cpu;

import java.util.concurrent.locks.LockSupport;

/**
 * How a thread of a {@link WorkerTeam} waits for the next job (or for its team to finish one), in the manner of
 * Agrona's BackoffIdleStrategy: spin while work is likely to come soon (the next matvec of a decode step), then
 * yield, then park. Spinning is bounded ({@link #SPIN_NANOS}) so that on a small machine a waiting compute thread
 * gives its core back to I/O threads and other processes within a fraction of a millisecond; parking is what it
 * does between requests and while the decoder waits for an expert to be paged in. Not thread-safe: one instance
 * per waiting thread.
 */
final class IdleStrategy {
    /**
     * How long to busy-wait (Thread.onSpinWait) before yielding. Why time, not a count: 2,000 spins were meant as
     * "a few microseconds" and took 25 us on an Intel Xeon (a pause is ~12 ns there, ~140 cycles on others), so
     * with 50 yields a worker parked after ~40 us without work; a two-thread decode step's gaps between loops (the
     * partner's last piece of a 3584-row gate/up, then norms and attention) are often longer, and waking a parked
     * thread takes tens of microseconds: in two-thread Q4_K_M decode 3 % of the 1024-row loops opened with the worker
     * parked (1.4 % with this), and the worker began on average a tenth of a loop's time late (this and the OS
     * descheduling it). 200 us covers most gaps inside a step; while an expert is paged in (milliseconds) and
     * between requests the thread still parks.
     */
    static final long SPIN_NANOS = 200_000;
    /** Spins between clock reads. */
    private static final int SPIN_CHECK = 64;
    /** Thread.yield calls before parking. */
    static final int YIELDS = 50;
    private static final long MIN_PARK_NANOS = 1_000;
    private static final long MAX_PARK_NANOS = 1_000_000;

    private int spins;
    private long spinStart;
    private boolean spinOver;
    private int yields;
    private long parkNanos = MIN_PARK_NANOS;

    /** Back to spinning: call after useful work arrived. */
    void reset() {
        spins = 0;
        spinOver = false;
        yields = 0;
        parkNanos = MIN_PARK_NANOS;
    }

    /** True while the next {@link #idle} would not park (the caller may then skip announcing that it sleeps). */
    boolean spinning() {
        return !spinOver || yields < YIELDS;
    }

    /**
     * One wait step. Spins, then yields; then parks: for a bounded, growing time when {@code indefinitely} is
     * false (the caller re-checks its condition), or until unparked when true (the caller has announced that it
     * sleeps, so whoever changes the condition unparks it).
     */
    void idle(boolean indefinitely) {
        if (!spinOver) {
            if (spins++ % SPIN_CHECK == 0) {
                long now = System.nanoTime();
                if (spins == 1) {
                    spinStart = now;
                } else if (now - spinStart >= SPIN_NANOS) {
                    spinOver = true;
                }
            }
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
