package io.strata.loader.source;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The piece reads of every load in flight share a few reader threads (the device's queue depth). Why a queue of
 * our own rather than an executor: a read the decoder is about to wait for (a layer's routed experts, or a guess
 * that compute now pins) must not wait behind guesses, and a guess that the layer's real routing has proven
 * wrong must not reach the disk at all. So each read belongs to a {@link Ticket}: urgent tickets' reads are taken
 * before background ones, a background ticket can be {@link Ticket#promote promoted} (its queued reads move to the
 * urgent queue) and {@link Ticket#cancel cancelled} (its queued reads are dropped and complete with
 * {@link ReadCancelledException}; reads already running finish). Reads of one ticket keep their order.
 * The ticket of the load running on a thread is bound to {@link #TICKET} by the tier cache; unbound reads are
 * urgent.
 */
public final class ReadQueue implements AutoCloseable {
    /** The ticket of the load the current thread runs. */
    public static final ScopedValue<Ticket> TICKET = ScopedValue.newInstance();

    /** A read, run on a reader thread. */
    @FunctionalInterface
    public interface Read {
        void run() throws IOException;
    }

    /** Thrown by reads of a cancelled ticket that never ran. */
    public static final class ReadCancelledException extends IOException {
        public ReadCancelledException(String message) {
            super(message);
        }
    }

    /** One load's reads: their priority and whether they are still wanted. Thread-safe. */
    public static final class Ticket {
        private volatile boolean urgent;
        private volatile boolean cancelled;
        private volatile ReadQueue queue;

        private Ticket(boolean urgent) {
            this.urgent = urgent;
        }

        public static Ticket urgent() {
            return new Ticket(true);
        }

        public static Ticket background() {
            return new Ticket(false);
        }

        public boolean isUrgent() {
            return urgent;
        }

        public boolean isCancelled() {
            return cancelled;
        }

        /** Its queued reads go ahead of background reads from now on. */
        public void promote() {
            urgent = true;
            ReadQueue q = queue;
            if (q != null) {
                q.promote(this);
            }
        }

        /** Its queued reads are dropped (they fail with {@link ReadCancelledException}); running ones finish. */
        public void cancel() {
            cancelled = true;
            ReadQueue q = queue;
            if (q != null) {
                q.cancel(this);
            }
        }
    }

    private record Task(Ticket ticket, Read read, CompletableFuture<Void> done) {
    }

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition ready = lock.newCondition();
    private final ArrayDeque<Task> urgent = new ArrayDeque<>(); // guarded by lock
    private final ArrayDeque<Task> background = new ArrayDeque<>(); // guarded by lock
    private boolean closed; // guarded by lock
    private final Thread[] threads;

    public ReadQueue(int readers, String name) {
        threads = new Thread[readers];
        for (int i = 0; i < readers; i++) {
            threads[i] = Thread.ofPlatform().daemon().name(name + (i + 1)).start(this::work);
        }
    }

    public int readers() {
        return threads.length;
    }

    /** Queues {@code read} under {@code ticket} (null: urgent); the future completes when it has run. */
    public CompletableFuture<Void> submit(Ticket ticket, Read read) {
        Ticket t = ticket == null ? Ticket.urgent() : ticket;
        t.queue = this;
        Task task = new Task(t, read, new CompletableFuture<>());
        lock.lock();
        try {
            if (closed) {
                task.done.completeExceptionally(new IOException("reads are closed"));
            } else if (t.cancelled) {
                task.done.completeExceptionally(new ReadCancelledException("read cancelled"));
            } else {
                (t.urgent ? urgent : background).addLast(task);
                ready.signal();
            }
        } finally {
            lock.unlock();
        }
        return task.done;
    }

    /** Reads waiting for a reader (not yet started). */
    public int queued() {
        lock.lock();
        try {
            return urgent.size() + background.size();
        } finally {
            lock.unlock();
        }
    }

    private void promote(Ticket t) {
        lock.lock();
        try {
            for (Iterator<Task> it = background.iterator(); it.hasNext(); ) {
                Task x = it.next();
                if (x.ticket == t) {
                    it.remove();
                    urgent.addLast(x);
                }
            }
        } finally {
            lock.unlock();
        }
    }

    private void cancel(Ticket t) {
        java.util.List<Task> dropped = new java.util.ArrayList<>();
        lock.lock();
        try {
            for (ArrayDeque<Task> q : java.util.List.of(urgent, background)) {
                for (Iterator<Task> it = q.iterator(); it.hasNext(); ) {
                    Task x = it.next();
                    if (x.ticket == t) {
                        it.remove();
                        dropped.add(x);
                    }
                }
            }
        } finally {
            lock.unlock();
        }
        for (Task x : dropped) {
            x.done.completeExceptionally(new ReadCancelledException("read cancelled"));
        }
    }

    private void work() {
        while (true) {
            Task task;
            lock.lock();
            try {
                while (!closed && urgent.isEmpty() && background.isEmpty()) {
                    ready.awaitUninterruptibly();
                }
                if (closed && urgent.isEmpty() && background.isEmpty()) {
                    return;
                }
                task = urgent.isEmpty() ? background.pollFirst() : urgent.pollFirst();
            } finally {
                lock.unlock();
            }
            try {
                task.read.run();
                task.done.complete(null);
            } catch (Throwable e) {
                task.done.completeExceptionally(e);
            }
        }
    }

    /** Queued reads still run; then the readers end. */
    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            ready.signalAll();
        } finally {
            lock.unlock();
        }
    }
}
