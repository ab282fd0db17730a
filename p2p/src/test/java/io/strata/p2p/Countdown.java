package io.strata.p2p;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/** A latch whose opening is a future (so responders can wait on it without blocking a thread). */
public final class Countdown {
    private final AtomicInteger left;
    private final CompletableFuture<Void> open = new CompletableFuture<>();

    public Countdown(int n) {
        left = new AtomicInteger(n);
        if (n <= 0) {
            open.complete(null);
        }
    }

    public void countDown() {
        if (left.decrementAndGet() == 0) {
            open.complete(null);
        }
    }

    public long count() {
        return Math.max(0, left.get());
    }

    public CompletableFuture<Void> opened() {
        return open;
    }
}
