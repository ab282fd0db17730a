package io.strata.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class WorkerTeamTest {
    @Test
    void everyIndexRunsExactlyOnceInGrainAlignedChunks() {
        try (WorkerTeam team = new WorkerTeam(3)) {
            SplittableRandom rnd = new SplittableRandom(1);
            Set<Thread> threads = ConcurrentHashMap.newKeySet();
            for (int round = 0; round < 2_000; round++) {
                int from = rnd.nextInt(50);
                int to = from + rnd.nextInt(3_000);
                int grain = 1 + rnd.nextInt(70);
                AtomicIntegerArray hits = new AtomicIntegerArray(to + 1);
                team.forRange(from, to, grain, (a, b) -> {
                    threads.add(Thread.currentThread());
                    assertTrue(a < b, "empty chunk");
                    assertEquals(0, (a - from) % grain, "chunk start on the grain");
                    for (int i = a; i < b; i++) {
                        hits.incrementAndGet(i);
                    }
                });
                for (int i = 0; i <= to; i++) {
                    assertEquals(i >= from && i < to ? 1 : 0, hits.get(i), "index " + i + " of [" + from + ", " + to + ")");
                }
            }
            assertTrue(threads.size() > 1, "workers took part: " + threads);
        }
    }

    @Test
    void theRestOfAStalledThreadsPartIsTakenOverByTheOthers() {
        try (WorkerTeam team = new WorkerTeam(2)) {
            Thread caller = Thread.currentThread();
            int n = 64 * 64;
            int held = -1;
            WorkerTeam.Stats loop = null;
            while (held < 0) { // until the worker took part (it may find a loop already done)
                WorkerTeam.Stats before = team.stats();
                AtomicIntegerArray hits = new AtomicIntegerArray(n);
                AtomicInteger othersDone = new AtomicInteger();
                AtomicInteger heldSize = new AtomicInteger(-1);
                team.forRange(0, n, 64, (a, b) -> {
                    if (Thread.currentThread() != caller && heldSize.compareAndSet(-1, b - a)) {
                        // the worker's first piece stalls until every other item is done: the loop ends only if
                        // the caller takes over the unclaimed rest of the worker's part
                        long deadline = System.nanoTime() + 30_000_000_000L;
                        while (othersDone.get() < n - (b - a)) {
                            if (System.nanoTime() > deadline) {
                                throw new AssertionError("items were left to the stalled thread: "
                                        + othersDone.get() + " of " + (n - (b - a)) + " done by the others");
                            }
                            Thread.onSpinWait();
                        }
                    } else {
                        othersDone.addAndGet(b - a);
                    }
                    for (int i = a; i < b; i++) {
                        hits.incrementAndGet(i);
                    }
                });
                for (int i = 0; i < n; i++) {
                    assertEquals(1, hits.get(i), "index " + i);
                }
                held = heldSize.get();
                loop = team.stats().minus(before);
            }
            assertTrue(held < n / 2, "the stalled piece, " + held + " items, is part of the worker's half only");
            assertEquals(new WorkerTeam.Stats(1, n, n - held, loop.parkedAtOpen()), loop,
                    "one loop, the caller running all but the stalled piece");
        }
    }

    @Test
    void aFailingChunkIsRethrownAfterTheLoopAndTheTeamStaysUsable() {
        try (WorkerTeam team = new WorkerTeam(2)) {
            IllegalStateException boom = new IllegalStateException("boom");
            var e = assertThrows(IllegalStateException.class, () -> team.forRange(0, 1_000, 1, (a, b) -> {
                if (a == 0) {
                    throw boom;
                }
            }));
            assertSame(boom, e);
            AtomicIntegerArray hits = new AtomicIntegerArray(1_000);
            team.forRange(0, 1_000, 1, (a, b) -> {
                for (int i = a; i < b; i++) {
                    hits.incrementAndGet(i);
                }
            });
            for (int i = 0; i < 1_000; i++) {
                assertEquals(1, hits.get(i));
            }
        }
    }

    @Test
    void parkedWorkersWakeForTheNextLoop() throws InterruptedException {
        try (WorkerTeam team = new WorkerTeam(2)) {
            team.forRange(0, 100, 1, (a, b) -> { });
            Thread worker = findWorker(team);
            // wait (without sleeping as synchronisation) until the idle worker has gone from spinning to parked
            while (worker.getState() != Thread.State.WAITING) {
                Thread.onSpinWait();
            }
            CountDownLatch bothInside = new CountDownLatch(2);
            AtomicReference<Thread> other = new AtomicReference<>();
            // two chunks, each waiting until both are running: the loop finishes only if the parked worker woke
            team.forRange(0, 2, 1, (a, b) -> {
                bothInside.countDown();
                if (Thread.currentThread() == worker) {
                    other.set(worker);
                }
                try {
                    assertTrue(bothInside.await(30, java.util.concurrent.TimeUnit.SECONDS), "worker never woke");
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            assertSame(worker, other.get());
        }
    }

    private static Thread findWorker(WorkerTeam team) {
        AtomicReference<Thread> seen = new AtomicReference<>();
        Thread caller = Thread.currentThread();
        while (seen.get() == null) {
            team.forRange(0, 64, 1, (a, b) -> {
                if (Thread.currentThread() != caller) {
                    seen.set(Thread.currentThread());
                }
                for (long spin = 0; spin < 20_000 && seen.get() == null; spin++) {
                    Thread.onSpinWait();
                }
            });
        }
        return seen.get();
    }

    @Test
    void aCallWhileTheTeamIsBusyOrFromInsideALoopRunsOnTheCallingThread() throws Exception {
        try (WorkerTeam team = new WorkerTeam(2)) {
            AtomicReference<Set<Thread>> nested = new AtomicReference<>();
            team.forRange(0, 2, 1, (a, b) -> {
                Set<Thread> inner = ConcurrentHashMap.newKeySet();
                team.forRange(0, 1_000, 1, (c, d) -> inner.add(Thread.currentThread()));
                assertEquals(Set.of(Thread.currentThread()), inner, "nested loop ran inline");
                nested.set(inner);
            });
            assertTrue(nested.get() != null);
            // two threads calling at once: both loops complete, each index once
            AtomicIntegerArray hits = new AtomicIntegerArray(2 * 100_000);
            Thread t = new Thread(() -> {
                for (int r = 0; r < 50; r++) {
                    int base = r * 1_000;
                    team.forRange(0, 1_000, 8, (a, b) -> {
                        for (int i = a; i < b; i++) {
                            hits.incrementAndGet(base + i);
                        }
                    });
                }
            });
            t.start();
            for (int r = 50; r < 100; r++) {
                int base = r * 1_000;
                team.forRange(0, 1_000, 8, (a, b) -> {
                    for (int i = a; i < b; i++) {
                        hits.incrementAndGet(base + i);
                    }
                });
            }
            t.join();
            for (int i = 0; i < 100_000; i++) {
                assertEquals(1, hits.get(i), "index " + i);
            }
        }
    }

    @Test
    void aClosedTeamRunsLoopsOnTheCaller() {
        WorkerTeam team = new WorkerTeam(3);
        team.close();
        Set<Thread> threads = ConcurrentHashMap.newKeySet();
        team.forRange(0, 10_000, 1, (a, b) -> threads.add(Thread.currentThread()));
        assertEquals(Set.of(Thread.currentThread()), threads);
        assertThrows(IllegalArgumentException.class, () -> new WorkerTeam(0));
        assertThrows(IllegalArgumentException.class, () -> team.forRange(5, 4, 1, (a, b) -> { }));
    }

    @Test
    void aLoopAllocatesNothingOnTheCallingThread() {
        var mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        try (WorkerTeam team = new WorkerTeam(2)) {
            float[] out = new float[4_096];
            WorkerTeam.RangeTask task = (a, b) -> {
                for (int i = a; i < b; i++) {
                    out[i] += 1f;
                }
            };
            for (int i = 0; i < 20_000; i++) {
                team.forRange(0, out.length, 64, task);
            }
            long before = mx.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < 10_000; i++) {
                team.forRange(0, out.length, 64, task);
            }
            long perLoop = (mx.getCurrentThreadAllocatedBytes() - before) / 10_000;
            assertTrue(perLoop < 8, "bytes allocated per loop: " + perLoop);
            assertEquals(30_000f, out[17]);
        }
    }
}
