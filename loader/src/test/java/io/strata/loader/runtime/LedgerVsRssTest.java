package io.strata.loader.runtime;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.strata.core.model.Layout;
import io.strata.core.model.Tier;
import io.strata.loader.cache.ExpertHandle;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The host ledger describes the process's real footprint: paging a model eight times the host budget through
 * from several threads (demand loads, the reader pool and prefetch all allocating and freeing expert blocks), the
 * process's anonymous memory ({@code RssAnon}) grows by no more than the budget plus {@link #OVERHEAD}, the Java
 * heap's own committed growth excluded (the GC sizes the heap, not the ledger). Before host blocks were mapped
 * per block, glibc's per-thread arenas kept freed experts and anonymous memory outgrew the budget.
 */
class LedgerVsRssTest {
    /** Stated overhead beyond the budget: malloc metadata, thread stacks, JIT code, BLAKE3 scratch. */
    static final long OVERHEAD = 24L << 20;
    private static final int LAYERS = 4;
    private static final int EXPERTS = 8;

    @TempDir
    Path tmp;

    @Test
    void anonymousMemoryGrowthStaysWithinTheHostBudgetPlusAStatedOverhead() throws Exception {
        assumeTrue(Files.isReadable(Path.of("/proc/self/status")), "needs Linux /proc");
        TestModels.Model m = TestModels.mixtral(tmp, LAYERS, EXPERTS, 256, 512, Layout.ROW, 1); // 1.5 MiB experts
        long per = TestModels.expertBytes(m);
        long total = per * LAYERS * EXPERTS;
        long budget = total / 8;
        RuntimeOptions o = RuntimeOptions.builder().noDiskCache().hostBudget(budget).prefetch(true).ioThreads(3)
                .build();
        pageThrough(m, o, 1, new AtomicLong(), 0); // warm the code paths, threads and JIT first
        System.gc();
        long base = anonOutsideHeap();
        AtomicLong peak = new AtomicLong();
        long highWater = pageThrough(m, o, 3, peak, base);
        long growth = peak.get();
        assertTrue(highWater <= budget, "ledger high water " + highWater + " > budget " + budget);
        assertTrue(growth <= budget + OVERHEAD, "anonymous memory grew by " + (growth >> 10) + " KiB paging "
                + (total >> 10) + " KiB of experts under a " + (budget >> 10) + " KiB budget (allowed: budget + "
                + (OVERHEAD >> 10) + " KiB)");
    }

    /** Pages every expert {@code passes} times from 4 threads; records peak anon growth over {@code base}. */
    private static long pageThrough(TestModels.Model m, RuntimeOptions o, int passes, AtomicLong peak, long base)
            throws Exception {
        try (ModelRuntime rt = ModelRuntime.open(m.converted(), o)) {
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<?>> fs = new ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    Random rnd = new Random(t);
                    fs.add(pool.submit(() -> {
                        for (int p = 0; p < passes; p++) {
                            for (int l = 0; l < LAYERS; l++) {
                                int[] experts = {rnd.nextInt(EXPERTS), rnd.nextInt(EXPERTS)};
                                rt.observeRouting(l, experts); // starts the reader pool, as the decoder does
                                rt.prefetch((l + 1) % LAYERS, new int[]{rnd.nextInt(EXPERTS)});
                                for (int e : experts) {
                                    try (ExpertHandle h = rt.expert(l, e, Tier.HOST)) {
                                        var b = h.bytes();
                                        if (b.get(ValueLayout.JAVA_BYTE, b.byteSize() - 1) == 42 && p < 0) {
                                            throw new AssertionError();
                                        }
                                    }
                                    peak.accumulateAndGet(anonOutsideHeap() - base, Math::max);
                                }
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> f : fs) {
                    f.get();
                }
            } finally {
                pool.shutdownNow();
            }
            rt.drainPrefetch();
            peak.accumulateAndGet(anonOutsideHeap() - base, Math::max);
            return rt.ledger(Tier.HOST).highWater();
        }
    }

    /** RssAnon minus the Java heap's committed bytes. */
    static long anonOutsideHeap() {
        MemoryMXBean mx = ManagementFactory.getMemoryMXBean();
        return rssAnon() - mx.getHeapMemoryUsage().getCommitted();
    }

    static long rssAnon() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("RssAnon:")) {
                    return Long.parseLong(line.substring(8).trim().split("\\s+")[0]) * 1024;
                }
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        throw new IllegalStateException("/proc/self/status has no RssAnon");
    }
}
