package io.strata.core.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;

class MemoryLedgerTest {

    /** An evictor that holds reservations in FIFO order and drops them on demand, except pinned ones. */
    static final class FifoHolder implements Evictor {
        final Deque<Reservation> held = new ArrayDeque<>();
        long pinned;

        synchronized void add(Reservation r) {
            held.add(r);
        }

        @Override
        public long evict(long bytes) {
            long freed = 0;
            while (freed < bytes) {
                Reservation r;
                synchronized (this) {
                    r = held.poll();
                }
                if (r == null) {
                    break;
                }
                r.close();
                freed += r.bytes();
            }
            return freed;
        }

        @Override
        public synchronized long pinnedBytes() {
            return pinned;
        }
    }

    @Test
    void grantsUpToBudgetMinusReserveAndReleases() {
        MemoryLedger l = new MemoryLedger("host", 1000, 200);
        Reservation a = l.reserve(Pool.EXPERTS, 500);
        Reservation b = l.reserve(Pool.KV, 300);
        assertEquals(800, l.used());
        assertEquals(0, l.available());
        assertNull(l.tryReserve(Pool.SCRATCH, 1));
        BudgetExceededException e = assertThrows(BudgetExceededException.class, () -> l.reserve(Pool.SCRATCH, 1));
        assertEquals(Pool.SCRATCH, e.pool());
        assertEquals(1, e.requested());
        assertEquals(0, e.available());
        assertTrue(e.getMessage().contains("host budget exceeded"), e.getMessage());
        a.close();
        a.close(); // idempotent
        assertEquals(300, l.used());
        assertEquals(300, l.used(Pool.KV));
        b.close();
        assertEquals(0, l.used());
        assertEquals(800, l.highWater());
    }

    @Test
    void evictsUnpinnedBeforeFailing() {
        MemoryLedger l = new MemoryLedger("device", 1000);
        FifoHolder cache = new FifoHolder();
        l.registerEvictor(Pool.EXPERTS, cache);
        for (int i = 0; i < 10; i++) {
            cache.add(l.reserve(Pool.EXPERTS, 100));
        }
        Reservation big = l.reserve(Pool.EXPERTS, 250); // must evict three entries
        assertEquals(250, big.bytes());
        assertEquals(7, cache.held.size());
        assertTrue(l.used() <= 1000);
        assertEquals(1000, l.highWater());
    }

    @Test
    void failsWithPinnedFigureWhenEverythingLeftIsPinned() {
        MemoryLedger l = new MemoryLedger("host", 1000);
        FifoHolder cache = new FifoHolder();
        l.registerEvictor(Pool.EXPERTS, cache);
        Reservation pinnedEntry = l.reserve(Pool.EXPERTS, 900);
        cache.pinned = 900;
        BudgetExceededException e = assertThrows(BudgetExceededException.class, () -> l.reserve(Pool.EXPERTS, 200));
        assertEquals(900, e.pinned());
        assertEquals(100, e.available());
        assertEquals("host", e.tier());
        pinnedEntry.close();
        assertEquals(200, l.reserve(Pool.EXPERTS, 200).bytes());
    }

    @Test
    void poolLimitBindsInsideTheBudget() {
        MemoryLedger l = new MemoryLedger("host", 1000).limitPool(Pool.KV, 300);
        l.reserve(Pool.KV, 300);
        BudgetExceededException e = assertThrows(BudgetExceededException.class, () -> l.reserve(Pool.KV, 1));
        assertEquals(Pool.KV, e.pool());
        assertEquals(700, l.reserve(Pool.EXPERTS, 700).bytes());
        assertThrows(BudgetExceededException.class, () -> l.reserve(Pool.EXPERTS, 2000));
    }

    @Test
    void otherPoolsEvictorsHelpWhenTheTotalBinds() {
        MemoryLedger l = new MemoryLedger("host", 1000);
        FifoHolder kv = new FifoHolder();
        l.registerEvictor(Pool.KV, kv);
        kv.add(l.reserve(Pool.KV, 600));
        kv.add(l.reserve(Pool.KV, 400));
        assertEquals(500, l.reserve(Pool.EXPERTS, 500).bytes());
        assertEquals(1, kv.held.size());
    }

    @Test
    void rejectsBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> new MemoryLedger("x", 10, 20));
        MemoryLedger l = new MemoryLedger("x", 10);
        assertThrows(IllegalArgumentException.class, () -> l.reserve(Pool.KV, -1));
    }

    @Test
    void defaultHostBudgetIsHalfOfRamWithTwoGibReserve() {
        MemoryLedger host = DefaultBudgets.hostLedger();
        long ram = DefaultBudgets.physicalMemory();
        assertEquals(ram / 2, host.budget());
        assertEquals(Math.min(2L << 30, ram / 2), host.reserve());
    }

    @Test
    void concurrentReserveEvictReleaseNeverCrossesTheBudget() throws Exception {
        long budget = 10_000;
        MemoryLedger l = new MemoryLedger("host", budget);
        FifoHolder cache = new FifoHolder();
        l.registerEvictor(Pool.EXPERTS, cache);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                fs.add(pool.submit(() -> {
                    ThreadLocalRandom rnd = ThreadLocalRandom.current();
                    for (int i = 0; i < 2000; i++) {
                        Reservation r = l.reserve(Pool.EXPERTS, 1 + rnd.nextInt(1000));
                        if (rnd.nextBoolean()) {
                            cache.add(r);
                        } else {
                            r.close();
                        }
                        assertTrue(l.used() <= budget);
                    }
                }));
            }
            for (Future<?> f : fs) {
                f.get();
            }
        } finally {
            pool.shutdown();
        }
        assertTrue(l.highWater() <= budget, "high water " + l.highWater());
        cache.evict(Long.MAX_VALUE);
        assertEquals(0, l.used());
    }
}
