package io.strata.core.telemetry;

import io.strata.core.model.Tier;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Listeners on every page-in, for what needs each one's latency and not only the sums that {@link TierCounters}
 * keeps: a metrics registry's latency histogram (the server's {@code /metrics}). JFR's {@link PageInEvent} stays
 * the tool for a recording; this is for live export. Process-wide, like JFR events; no listener, no cost but a
 * volatile read.
 */
public final class PageInObservers {
    /** One page-in of {@code bytes} from {@code from} into {@code to} that took {@code nanos}. */
    @FunctionalInterface
    public interface Observer {
        void pageIn(Tier from, Tier to, long bytes, long nanos);
    }

    private static final CopyOnWriteArrayList<Observer> OBSERVERS = new CopyOnWriteArrayList<>();

    private PageInObservers() {
    }

    /** Adds {@code o}; closing the result removes it. */
    public static AutoCloseable add(Observer o) {
        OBSERVERS.add(o);
        return () -> OBSERVERS.remove(o);
    }

    static void fire(Tier from, Tier to, long bytes, long nanos) {
        if (OBSERVERS.isEmpty()) {
            return;
        }
        for (Observer o : OBSERVERS) {
            o.pageIn(from, to, bytes, nanos);
        }
    }
}
