package io.strata.server;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The server's own counters (requests, tokens, time), beside the runtime's tier telemetry: {@link StrataMetrics}
 * exposes both, and the status page plots both.
 */
final class ServerCounters {
    final AtomicLong requests = new AtomicLong();
    final AtomicLong completed = new AtomicLong();
    final AtomicLong cancelled = new AtomicLong();
    final AtomicLong rejected = new AtomicLong();
    final AtomicLong badRequests = new AtomicLong();
    final AtomicLong promptTokens = new AtomicLong();
    final AtomicLong completionTokens = new AtomicLong();
    final AtomicLong promptNanos = new AtomicLong();
    final AtomicLong decodeNanos = new AtomicLong();
    final AtomicLong stallNanos = new AtomicLong();
    final AtomicLong requestNanos = new AtomicLong();

    public long requests() {
        return requests.get();
    }

    public long completed() {
        return completed.get();
    }

    public long cancelled() {
        return cancelled.get();
    }

    public long rejected() {
        return rejected.get();
    }

    public long badRequests() {
        return badRequests.get();
    }

    public long promptTokens() {
        return promptTokens.get();
    }

    public long completionTokens() {
        return completionTokens.get();
    }

    public long promptNanos() {
        return promptNanos.get();
    }

    public long decodeNanos() {
        return decodeNanos.get();
    }

    public long stallNanos() {
        return stallNanos.get();
    }
}
