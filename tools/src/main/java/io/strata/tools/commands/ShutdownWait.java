package io.strata.tools.commands;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * How a long-running command ({@code peer}, {@code serve}) waits to be stopped: by SIGTERM/Ctrl-C (a shutdown
 * hook counts {@code stop} down, then gives the command up to five seconds to close and report before the JVM
 * exits) or in process by whoever holds {@code stop} (tests). {@link #close()} ends the wait for the hook: call it
 * once the command has closed what it opened.
 */
final class ShutdownWait implements AutoCloseable {
    private final CountDownLatch stop;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final Thread hook;

    ShutdownWait(CountDownLatch stop, String name) {
        this.stop = stop;
        this.hook = new Thread(() -> {
            stop.countDown();
            try {
                stopped.await(5, TimeUnit.SECONDS);
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
        }, name);
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** Blocks until stopped; the hook is removed unless the JVM is already shutting down. */
    void await() {
        try {
            stop.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // stopped in process
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException ignored) {
                // shutting down: the hook waits for close()
            }
        }
    }

    @Override
    public void close() {
        stopped.countDown();
    }
}
