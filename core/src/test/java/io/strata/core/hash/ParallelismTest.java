package io.strata.core.hash;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The multi-threaded path really forks onto the configured pool, and only where it can. */
class ParallelismTest {

    @Test
    void largeInputsForkOntoTheInjectedPool() {
        AtomicInteger threads = new AtomicInteger();
        ForkJoinPool pool = new ForkJoinPool(2, p -> {
            threads.incrementAndGet();
            return ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(p);
        }, null, false);
        try {
            ParallelBlake3 engine = new ParallelBlake3(pool);
            assertEquals(2, engine.parallelism());
            byte[] data = Oracle.random(4 << 20, 1);
            assertArrayEquals(Oracle.hash(data), engine.hash(MemorySegment.ofArray(data)));
            assertTrue(threads.get() >= 1, "no pool thread was started");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aShutDownPoolRejectsLargeInputsButSmallOnesStayOnTheCallerThread() {
        ForkJoinPool pool = new ForkJoinPool(2);
        pool.shutdown();
        ParallelBlake3 engine = new ParallelBlake3(pool);
        byte[] small = Oracle.random((int) ParallelBlake3.LEAF_BYTES, 2);
        assertArrayEquals(Oracle.hash(small), engine.hash(MemorySegment.ofArray(small)));
        MemorySegment large = MemorySegment.ofArray(new byte[(int) ParallelBlake3.LEAF_BYTES + 1]);
        assertThrows(RejectedExecutionException.class, () -> engine.hash(large));
    }

    @Test
    void confinedSegmentsAreHashedOnTheCallerThread() {
        ForkJoinPool pool = new ForkJoinPool(2);
        pool.shutdown();
        ParallelBlake3 engine = new ParallelBlake3(pool);
        byte[] data = Oracle.random(1 << 20, 3);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocateFrom(java.lang.foreign.ValueLayout.JAVA_BYTE, data);
            assertArrayEquals(Oracle.hash(data), engine.hash(seg));
        }
    }

    @Test
    void ownPoolAndSharedSettingWork() {
        try (ParallelBlake3 engine = new ParallelBlake3(2)) {
            assertEquals(2, engine.parallelism());
            byte[] data = Oracle.random(2 << 20, 4);
            assertArrayEquals(Oracle.hash(data), engine.hash(MemorySegment.ofArray(data)));
        }
        assertThrows(IllegalArgumentException.class, () -> new ParallelBlake3(0));
        int before = Blake3.parallelism();
        try {
            Blake3.setParallelism(1);
            assertEquals(1, Blake3.parallelism());
            assertArrayEquals(Oracle.hash(Oracle.pattern(300_000)), Blake3.hash(Oracle.pattern(300_000)));
        } finally {
            Blake3.setParallelism(before);
        }
    }
}
