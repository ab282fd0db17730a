package io.strata.kernels.cpu;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
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
 * <p>A loop's range is cut into one contiguous part per thread, on multiples of the caller's grain; each thread
 * takes pieces from the front of its own part, then from the back of whichever part has most left (see
 * {@link #work}), so a thread that starts late or is descheduled does not hold the others back, and the call
 * returns when every item is done. Which thread runs a piece never changes a result as long as the task's items
 * are independent, which is what the kernels here guarantee: the bits do not depend on the thread count.
 *
 * <p>Placement beside I/O threads: a team has one thread per physical core by default ({@link CpuTopology}),
 * and its threads give their cores back within a few hundred microseconds of running out of work (spin for
 * {@link IdleStrategy#SPIN_NANOS}, then yield, then park). So while the decoder blocks on an expert being paged
 * in, or between requests,
 * the paging and prefetch threads (which spend their time in reads and copies, not in this team) get every
 * core; what they cannot get is a core the team is computing on, and on a small machine a loop is at most a
 * few hundred microseconds. A worker that the OS deschedules in the middle of a piece holds its loop until it
 * runs again (its piece shrinks to the grain as the loop goes on): on a machine with more runnable threads than
 * cores, fewer team threads can be faster.
 *
 * <p>One loop runs at a time. A call made while the team is busy (another sequence on another thread, or a task
 * that itself calls the team) runs on the calling thread alone instead of waiting. Allocation-free per loop.
 */
public final class WorkerTeam implements AutoCloseable {
    /**
     * What a team's loops have done since it started: loops run over the workers (not those run inline), their
     * items, the items the calling thread ran itself (with T threads and nothing in the way, about 1/T of them), and
     * the loops that opened with a worker parked (it then wakes late: see {@link IdleStrategy#SPIN_NANOS}). Kept by
     * the loops' calling threads; {@link #minus} gives what happened between two snapshots.
     */
    public record Stats(long loops, long items, long callerItems, long parkedAtOpen) {
        public Stats minus(Stats earlier) {
            return new Stats(loops - earlier.loops, items - earlier.items, callerItems - earlier.callerItems,
                    parkedAtOpen - earlier.parkedAtOpen);
        }

        public Stats plus(Stats other) {
            return new Stats(loops + other.loops, items + other.items, callerItems + other.callerItems,
                    parkedAtOpen + other.parkedAtOpen);
        }
    }

    /** The body of a parallel loop: handles items [from, to). Must not depend on how the range was cut. */
    @FunctionalInterface
    public interface RangeTask {
        void run(int from, int to);
    }

    /**
     * A thread's first piece of its own part: this fraction of it, in eighths (the rest it takes in halves, so that
     * what is left for a faster thread to take from the back shrinks to the grain). Why a big first piece: each
     * piece is a kernel call (its input re-checked, its staging buffer copied), while pieces that follow each
     * other on one thread read on from where the last one's read-ahead got to.
     */
    static final int FIRST_EIGHTHS = 6;
    private static final ConcurrentHashMap<Integer, WorkerTeam> SHARED = new ConcurrentHashMap<>();
    private static final AtomicInteger TEAMS = new AtomicInteger();

    private final int threads;
    private final Worker[] workers;
    private final ReentrantLock lock = new ReentrantLock();
    private final IdleStrategy callerIdle = new IdleStrategy();
    /** The loop ticket, odd while the loop is open. */
    private final AtomicInteger state = new AtomicInteger();
    /** Threads that saw an open loop and may still read its fields or claim its pieces. */
    private final AtomicInteger active = new AtomicInteger();
    /** Items of the open loop not yet done. */
    private final AtomicInteger left = new AtomicInteger();
    /**
     * Per part p (thread p's, the caller's being 0), at index p * PAD: the unclaimed items [front, back) relative to
     * the loop's start, as front << 32 | back. The owner takes pieces from the front, others from the back.
     */
    private final AtomicLongArray parts;
    private static final int PAD = 8;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private volatile Thread waiter;
    private volatile boolean closed;
    private int ticket;

    // The open loop, written before the state word that opens it and read only by threads counted in active.
    private RangeTask task;
    private int from;
    private int to;
    private int grain;
    // Stats, written by the caller of a loop with the lock held
    private long loops;
    private long items;
    private long callerItems;
    private long parkedAtOpen;

    /** A team of {@code threads} threads in all: the calling thread and {@code threads - 1} daemon workers. */
    public WorkerTeam(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("a worker team needs at least 1 thread, got " + threads);
        }
        this.threads = threads;
        this.workers = new Worker[threads - 1];
        this.parts = new AtomicLongArray(threads * PAD);
        int team = TEAMS.incrementAndGet();
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker(i + 1);
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

    /**
     * A snapshot of the counts: exact when read by the thread that runs the loops (as a benchmark does), possibly
     * stale from another thread. Takes no lock, so that it never turns a loop of another thread into an inline one.
     */
    public Stats stats() {
        return new Stats(loops, items, callerItems, parkedAtOpen);
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
        // a loop started from inside a task of this team (the lock is reentrant: the caller of the running loop would
        // otherwise take it again and overwrite the loop it is in) runs inline like a loop of a busy team
        if (n <= grain || workers.length == 0 || closed || lock.isHeldByCurrentThread() || !lock.tryLock()) {
            if (n > 0) {
                task.run(from, to);
            }
            return;
        }
        try {
            runLoop(from, to, grain, task);
        } finally {
            lock.unlock();
        }
    }

    private void runLoop(int from, int to, int grain, RangeTask task) {
        IdleStrategy idle = callerIdle;
        idle.reset();
        while (active.get() != 0) {
            idle.idle(false); // a worker of the previous loop has not left it yet
        }
        int n = to - from;
        this.task = task;
        this.from = from;
        this.to = to;
        this.grain = grain;
        for (int p = 0; p < threads; p++) { // contiguous parts on grain boundaries, the last to the end
            long a = (long) n * p / threads / grain * grain;
            long b = p == threads - 1 ? n : (long) n * (p + 1) / threads / grain * grain;
            parts.set(p * PAD, a << 32 | b);
        }
        left.set(n);
        failure.set(null);
        ticket += 2;
        int t = ticket | 1;
        state.set(t);
        for (Worker w : workers) {
            if (w.sleeping) {
                parkedAtOpen++;
                LockSupport.unpark(w.thread);
            }
        }
        loops++;
        items += n;
        callerItems += work(t, 0);
        idle.reset();
        while (left.get() > 0) {
            if (idle.spinning()) {
                idle.idle(false);
            } else {
                waiter = Thread.currentThread();
                if (left.get() > 0) {
                    idle.idle(true);
                }
                waiter = null;
            }
        }
        state.set(t + 1);
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

    /**
     * Thread {@code self}'s share of loop {@code t}: pieces from the front of its own part, the first
     * {@link #FIRST_EIGHTHS} of it and then halves of what is left; then pieces from the back of the part with the
     * most left, half of it each time (at least a grain), until nothing is unclaimed or the loop is no longer open.
     * Why not equal chunks from one counter: in two-thread Q4_K_M decode one loop in twenty-five found the worker
     * absent (descheduled, or parked) and one in eight found it microseconds late, and with four equal chunks the
     * partner waited up to a chunk: the worker was idle for 16 % of the loops' time and the caller for 5 %. Here the
     * partner takes over a late thread's part from the back in ever smaller pieces, and each thread's own pieces
     * stay one forward stream (each chunk had started its read-ahead cold). Returns the items this thread ran.
     */
    private int work(int t, int self) {
        int n = to - from;
        int own = n / threads;
        int ran = 0;
        boolean first = true;
        for (;;) { // own part, from the front
            if (state.get() != t) {
                return ran;
            }
            long v = parts.get(self * PAD);
            int f = (int) (v >>> 32);
            int b = (int) v;
            if (f >= b) {
                break;
            }
            int want = first ? Math.max(1, own / 8 * FIRST_EIGHTHS) : (b - f + 1) / 2;
            int end = f + (want + grain - 1) / grain * grain;
            if (end >= b) {
                end = b;
            }
            if (parts.compareAndSet(self * PAD, v, (long) end << 32 | b)) {
                first = false;
                runPiece(f, end);
                ran += end - f;
            }
        }
        for (;;) { // the others', from the back
            if (state.get() != t) {
                return ran;
            }
            int victim = -1;
            long best = 0;
            int most = 0;
            for (int p = 0; p < threads; p++) {
                long v = parts.get(p * PAD);
                int rest = (int) v - (int) (v >>> 32);
                if (rest > most) {
                    most = rest;
                    victim = p;
                    best = v;
                }
            }
            if (victim < 0) {
                return ran;
            }
            int f = (int) (best >>> 32);
            int b = (int) best;
            int start = (b - Math.max(1, (b - f) / 2)) / grain * grain;
            if (start <= f) {
                start = f;
            }
            if (parts.compareAndSet(victim * PAD, best, (long) f << 32 | start)) {
                runPiece(start, b);
                ran += b - start;
            }
        }
    }

    /** Runs items [a, b) relative to the loop's start and counts them done. */
    private void runPiece(int a, int b) {
        try {
            if (failure.get() == null) {
                task.run(from + a, from + b);
            }
        } catch (Throwable e) {
            failure.compareAndSet(null, e);
        }
        if (left.addAndGet(a - b) == 0) {
            Thread w = waiter;
            if (w != null) {
                LockSupport.unpark(w);
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
        final int part;
        Thread thread;
        volatile boolean sleeping;

        Worker(int part) {
            this.part = part;
        }

        @Override
        public void run() {
            IdleStrategy idle = new IdleStrategy();
            int seen = 0;
            while (!closed) {
                int t = state.get();
                if ((t & 1) == 1 && t != seen) {
                    seen = t;
                    active.incrementAndGet();
                    try {
                        if (state.get() == t) {
                            work(t, part);
                        }
                    } finally {
                        active.decrementAndGet();
                    }
                    idle.reset();
                } else if (idle.spinning()) {
                    idle.idle(false);
                } else {
                    sleeping = true;
                    if (state.get() == t && !closed) {
                        idle.idle(true);
                    }
                    sleeping = false;
                }
            }
        }
    }
}
