package io.strata.p2p;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Makes Netty's leak detector fail tests instead of only logging: a factory (installed before any ByteBuf class
 * initialises, hence referenced from every test's static init) counts each reported leak. Paranoid level tracks
 * every buffer. Also checks that no node or verifier thread outlives a test.
 */
public final class NettyLeaks {
    private static final AtomicInteger LEAKS = new AtomicInteger();
    private static final List<String> REPORTS = new ArrayList<>();

    static {
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        ResourceLeakDetectorFactory.setResourceLeakDetectorFactory(new ResourceLeakDetectorFactory() {
            @Override
            public <T> ResourceLeakDetector<T> newResourceLeakDetector(Class<T> resource, int samplingInterval,
                                                                      long maxActive) {
                return new ResourceLeakDetector<>(resource, samplingInterval) {
                    @Override
                    protected void reportTracedLeak(String type, String records) {
                        record(type + ": " + records);
                    }

                    @Override
                    protected void reportUntracedLeak(String type) {
                        record(type);
                    }
                };
            }
        });
    }

    private NettyLeaks() {
    }

    private static synchronized void record(String what) {
        LEAKS.incrementAndGet();
        REPORTS.add(what);
    }

    /** Call from a static initializer of every test class that touches Netty. */
    public static void install() {
        // the static block above did the work
    }

    /**
     * Lets the GC find unreleased buffers, then allocates tracked buffers so the detector polls its queue; fails
     * when any leak was reported during the test class.
     */
    public static void assertNoLeaks() throws InterruptedException {
        for (int i = 0; i < 4; i++) {
            System.gc();
            Thread.sleep(20); // let the reference handler enqueue collected buffers (detection, not synchronisation)
            for (int j = 0; j < 4; j++) {
                ByteBuf a = PooledByteBufAllocator.DEFAULT.buffer(16);
                ByteBuf b = UnpooledByteBufAllocator.DEFAULT.directBuffer(16);
                a.release();
                b.release();
            }
        }
        synchronized (NettyLeaks.class) {
            assertEquals(0, LEAKS.get(), () -> "Netty buffer leaks: " + REPORTS);
        }
    }

    /** Fails if a node event-loop or fetch thread is still alive (after giving each 5 s to finish). */
    public static void assertNoStrataThreads() throws InterruptedException {
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("strata-p2p-") || t.getName().startsWith("strata-verify-")
                    || t.getName().startsWith("strata-swarm-")) {
                t.join(5_000);
                assertTrue(!t.isAlive(), "thread leaked: " + t.getName());
            }
        }
    }
}
