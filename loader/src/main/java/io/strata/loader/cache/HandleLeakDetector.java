package io.strata.loader.cache;

import java.lang.ref.PhantomReference;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Finds {@link ExpertHandle}s that were dropped without {@link ExpertHandle#close()} (Netty's
 * ResourceLeakDetector is the model): every handle is tracked by a phantom reference; when the garbage collector
 * finds one unclosed, its pin is given back (a leak costs a warning, never an expert pinned forever) and the leak
 * is reported, with the stack that opened the handle when that handle was sampled. The queue is polled whenever a
 * handle opens, and by {@link #poll()}.
 *
 * <p>Level, from the system property {@code strata.leakDetection}: {@code disabled} (no tracking: a leaked pin
 * stays), {@code simple} (default: every handle tracked, one in 128 records its opening stack), {@code paranoid}
 * (every handle records its stack: for tests).
 */
public final class HandleLeakDetector {
    /** How much to track. */
    public enum Level { DISABLED, SIMPLE, PARANOID }

    private static final Logger LOG = Logger.getLogger(HandleLeakDetector.class.getName());
    private static final int SAMPLE = 128;
    private static final Level LEVEL = parse(System.getProperty("strata.leakDetection", "simple"));
    private static final ReferenceQueue<ExpertHandle> QUEUE = new ReferenceQueue<>();
    private static final Set<Tracker> LIVE = ConcurrentHashMap.newKeySet();
    private static final List<String> REPORTS = new ArrayList<>(); // guarded by itself
    private static final AtomicLong LEAKS = new AtomicLong();

    private HandleLeakDetector() {
    }

    /** What one open handle leaves behind for the detector: enough to unpin it and to say where it came from. */
    static final class Tracker extends PhantomReference<ExpertHandle> {
        private final TierCache cache;
        private final Resident resident;
        private final String description;
        private final Throwable openedAt;

        private Tracker(ExpertHandle h, TierCache cache, Resident resident, Throwable openedAt) {
            super(h, QUEUE);
            this.cache = cache;
            this.resident = resident;
            this.description = "expert " + resident.id + " (" + cache.tier() + " tier)";
            this.openedAt = openedAt;
        }

        /** The handle was closed properly: stop tracking. */
        void closed() {
            if (LIVE.remove(this)) {
                clear();
            }
        }
    }

    /** Starts tracking a newly opened handle; null when detection is disabled. */
    static Tracker track(ExpertHandle h, TierCache cache, Resident resident) {
        if (LEVEL == Level.DISABLED) {
            return null;
        }
        poll();
        boolean sampled = LEVEL == Level.PARANOID || ThreadLocalRandom.current().nextInt(SAMPLE) == 0;
        Tracker t = new Tracker(h, cache, resident, sampled ? new Throwable("opened here") : null);
        LIVE.add(t);
        Reference.reachabilityFence(h);
        return t;
    }

    /** Handles found leaked since the JVM started (each also reported). */
    public static long leakCount() {
        return LEAKS.get();
    }

    /** Reports the leaks found so far and forgets them (tests assert on these). */
    public static List<String> drainReports() {
        poll();
        synchronized (REPORTS) {
            List<String> out = List.copyOf(REPORTS);
            REPORTS.clear();
            return out;
        }
    }

    /**
     * Runs the garbage collector and waits (at most {@code timeoutMillis} per round, a few rounds) for it to hand
     * over handles it found unreachable; returns the leaks found, as {@link #drainReports()}. For tests.
     */
    public static List<String> collectAndDrain(long timeoutMillis) throws InterruptedException {
        for (int round = 0; round < 2; round++) {
            System.gc();
            Reference<? extends ExpertHandle> r = QUEUE.remove(timeoutMillis);
            if (r != null) {
                handle(r);
            }
        }
        return drainReports();
    }

    /** Collects every leaked handle the garbage collector has found: unpins it and reports it. */
    public static void poll() {
        Reference<? extends ExpertHandle> r;
        while ((r = QUEUE.poll()) != null) {
            handle(r);
        }
    }

    private static void handle(Reference<? extends ExpertHandle> r) {
        Tracker t = (Tracker) r;
        if (!LIVE.remove(t)) {
            return;
        }
        LEAKS.incrementAndGet();
        String report = "LEAK: " + t.description + " was never closed (try-with-resources on ExpertHandle);"
                + " its pin is released now" + (t.openedAt == null
                ? " (set -Dstrata.leakDetection=paranoid to see where it was opened)"
                : "; opened at:" + stack(t.openedAt));
        synchronized (REPORTS) {
            REPORTS.add(report);
        }
        LOG.log(java.util.logging.Level.WARNING, report);
        try {
            t.cache.unpin(t.resident);
        } catch (IllegalStateException e) {
            LOG.log(java.util.logging.Level.FINE, "leaked handle's cache already gone", e);
        }
    }

    private static String stack(Throwable t) {
        StringBuilder b = new StringBuilder();
        for (StackTraceElement e : t.getStackTrace()) {
            if (!e.getClassName().startsWith(HandleLeakDetector.class.getName())) {
                b.append("\n\tat ").append(e);
            }
        }
        return b.toString();
    }

    private static Level parse(String s) {
        try {
            return Level.valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            return Level.SIMPLE;
        }
    }
}
