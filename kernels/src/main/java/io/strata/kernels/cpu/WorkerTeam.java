package io.strata.kernels.cpu;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A persistent team of compute threads running parallel-for loops over index ranges (the output rows of a
 * matvec, of any {@link MatVec} row kernel, or anything else whose items are independent). A decode step issues
 * some seventy such loops of tens of microseconds each; handing each to a fork-join pool cost task objects and
 * wake-ups that showed in profiles, so the team's threads stay alive, wait on an {@link IdleStrategy} (spin,
 * yield, park) and take a new loop from one atomic word.
 *
 * <p>A loop's range is cut into chunks whose sizes are multiples of the caller's grain; the calling thread and
 * the workers claim chunks until none is left (a descheduled worker does not hold the others back), and the call
 * returns when every chunk is done. Which thread runs a chunk never changes a result as long as the task's items
 * are independent, which is what the kernels here guarantee: the bits do not depend on the thread count.
 *
 * <p>Placement beside I/O threads: a team has one thread per physical core by default ({@link CpuTopology}),
 * and its threads give their cores back within tens of microseconds of running out of work (a few thousand
 * spins, then yields, then park). So while the decoder blocks on an expert being paged in, or between tokens,
 * the paging and prefetch threads (which spend their time in reads and copies, not in this team) get every
 * core; what they cannot get is a core the team is computing on, and on a small machine a loop is at most a
 * few hundred microseconds. A worker that the OS deschedules in the middle of a chunk holds its loop until it
 * runs again: on a machine with more runnable threads than cores, fewer team threads can be faster.
 *
 * <p>One loop runs at a time. A call made while the team is busy (another sequence on another thread, or a task
 * that itself calls the team) runs on the calling thread alone instead of waiting. Allocation-free per loop.
 */
public final class WorkerTeam implements AutoCloseable {
    /** The body of a parallel loop: handles items [from, to). Must not depend on how the range was cut. */
    @FunctionalInterface
    public interface RangeTask {
        void run(int from, int to);
    }

    /**
     * Chunks per thread a loop is cut into, so that a slow thread leaves its share to the others. Why 2, not more:
     * each chunk of a decode matvec is a kernel call that starts its read-ahead cold and re-checks its input;
     * with 4, two-thread decode read 0.60-0.73 of the bound (Q4_K_M), with 2 0.66-0.82 and with 1 0.69-0.82
     * (interleaved bench compute runs, Intel Xeon, 2 threads), and 1 would leave a descheduled thread's half to
     * wait for it.
     */
    private static final int CHUNKS_PER_THREAD = 2;
    private static final ConcurrentHashMap<Integer, WorkerTeam> SHARED = new ConcurrentHashMap<>();
    private static final AtomicInteger TEAMS = new AtomicInteger();

    private final int threads;
    private final Worker[] workers;
    private final ReentrantLock lock = new ReentrantLock();
    private final IdleStrategy callerIdle = new IdleStrategy();
    /** High 32 bits: loop ticket, odd while the loop is open; low 32 bits: next unclaimed chunk. */
    private final AtomicLong state = new AtomicLong();
    /** Threads that saw an open loop and may still read its fields or claim its chunks. */
    private final AtomicInteger active = new AtomicInteger();
    private final AtomicInteger completed = new AtomicInteger();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private volatile Thread waiter;
    private volatile boolean closed;
    private int ticket;

    // The open loop, written before the state word that opens it and read only by threads counted in active.
    private RangeTask task;
    private int from;
    private int to;
    private int chunkSize;
    private int chunks;

    /** A team of {@code threads} threads in all: the calling thread and {@code threads - 1} daemon workers. */
    public WorkerTeam(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("a worker team needs at least 1 thread, got " + threads);
        }
        this.threads = threads;
        this.workers = new Worker[threads - 1];
        int team = TEAMS.incrementAndGet();
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker();
            Thread t = new Thread(workers[i], "strata-compute-" + team + "-" + (i + 1));
            t.setDaemon(true);
            workers[i].thread = t;
        }
        for (Worker w : workers) {
            w.thread.start();
        }
    }

    /** The process-wide team of {@code threads} threads, started on first use and never closed. */
    public static WorkerTeam shared(int threads) {
        return SHARED.computeIfAbsent(threads, WorkerTeam::new);
    }

    /** Threads that run a loop, the caller included. */
    public int threads() {
        return threads;
    }

    /**
     * Runs {@code task} over [from, to) and returns when all of it is done. Chunk sizes are multiples of
     * {@code grain} (the last chunk excepted) counted from {@code from}. A task failure is rethrown here after
     * the loop has finished (the first one, if several chunks fail).
     */
    public void forRange(int from, int to, int grain, RangeTask task) {
        if (from > to || grain < 1) {
            throw new IllegalArgumentException("parallel loop over [" + from + ", " + to + ") with grain " + grain);
        }
        int n = to - from;
        int size = chunkSize(n, grain);
        int count = n == 0 ? 0 : (n + size - 1) / size;
        // a loop started from inside a task of this team (the lock is reentrant: the caller of the running loop would
        // otherwise take it again and overwrite the loop it is in) runs inline like a loop of a busy team
        if (count <= 1 || workers.length == 0 || closed || lock.isHeldByCurrentThread() || !lock.tryLock()) {
            if (n > 0) {
                task.run(from, to);
            }
            return;
        }
        try {
            runLoop(from, to, size, count, task);
        } finally {
            lock.unlock();
        }
    }

    private int chunkSize(int n, int grain) {
        int target = threads * CHUNKS_PER_THREAD;
        int size = Math.max(1, (n + target - 1) / target);
        return (int) Math.min(Integer.MAX_VALUE, ((long) size + grain - 1) / grain * grain);
    }

    private void runLoop(int from, int to, int size, int count, RangeTask task) {
        IdleStrategy idle = callerIdle;
        idle.reset();
        while (active.get() != 0) {
            idle.idle(false); // a worker of the previous loop has not left it yet
        }
        this.task = task;
        this.from = from;
        this.to = to;
        this.chunkSize = size;
        this.chunks = count;
        completed.set(0);
        failure.set(null);
        ticket += 2;
        int t = ticket | 1;
        state.set((long) t << 32);
        for (Worker w : workers) {
            if (w.sleeping) {
                LockSupport.unpark(w.thread);
            }
        }
        claimChunks(t);
        idle.reset();
        while (completed.get() < count) {
            if (idle.spinning()) {
                idle.idle(false);
            } else {
                waiter = Thread.currentThread();
                if (completed.get() < count) {
                    idle.idle(true);
                }
                waiter = null;
            }
        }
        state.set((long) (t + 1) << 32);
        this.task = null;
        Throwable f = failure.getAndSet(null);
        if (f instanceof RuntimeException r) {
            throw r;
        }
        if (f instanceof Error e) {
            throw e;
        }
        if (f != null) {
            throw new IllegalStateException(f);
        }
    }

    /** Claims and runs chunks of loop {@code t} until none is left or the loop is no longer open. */
    private void claimChunks(int t) {
        for (;;) {
            long v = state.get();
            int c = (int) v;
            if ((int) (v >>> 32) != t || c >= chunks) {
                return;
            }
            if (!state.compareAndSet(v, v + 1)) {
                continue;
            }
            int a = from + c * chunkSize;
            int b = c == chunks - 1 ? to : a + chunkSize;
            try {
                if (failure.get() == null) {
                    task.run(a, b);
                }
            } catch (Throwable e) {
                failure.compareAndSet(null, e);
            }
            if (completed.incrementAndGet() == chunks) {
                Thread w = waiter;
                if (w != null) {
                    LockSupport.unpark(w);
                }
            }
        }
    }

    /** Stops the workers (a loop in progress finishes first). Later calls run on the calling thread. */
    @Override
    public void close() {
        closed = true;
        for (Worker w : workers) {
            LockSupport.unpark(w.thread);
        }
    }

    private final class Worker implements Runnable {
        Thread thread;
        volatile boolean sleeping;

        @Override
        public void run() {
            IdleStrategy idle = new IdleStrategy();
            int seen = 0;
            while (!closed) {
                int t = (int) (state.get() >>> 32);
                if ((t & 1) == 1 && t != seen) {
                    seen = t;
                    active.incrementAndGet();
                    try {
                        if ((int) (state.get() >>> 32) == t) {
                            claimChunks(t);
                        }
                    } finally {
                        active.decrementAndGet();
                    }
                    idle.reset();
                } else if (idle.spinning()) {
                    idle.idle(false);
                } else {
                    sleeping = true;
                    if ((int) (state.get() >>> 32) == t && !closed) {
                        idle.idle(true);
                    }
                    sleeping = false;
                }
            }
        }
    }
}
