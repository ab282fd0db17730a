package io.strata.loader.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.core.manifest.GroupInfo;
import io.strata.core.memory.BudgetExceededException;
import io.strata.core.memory.MemoryLedger;
import io.strata.core.model.DType;
import io.strata.core.model.ExpertId;
import io.strata.core.model.ExpertProjection;
import io.strata.core.model.Layout;
import io.strata.core.model.Tier;
import io.strata.core.telemetry.PrefetchCounters;
import io.strata.core.telemetry.TierCounters;
import io.strata.loader.policy.Policies;
import io.strata.loader.tier.HostMemory;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The expert cache of one tier on its own: the life of a copy (loading, resident, retired, dead) as the cache's
 * callers see it, pins against eviction, the ledger never exceeded, and a dropped handle found and unpinned.
 */
class TierCacheTest {
    static final long PART = 4096;
    static final long EXPERT = 3 * PART;

    final MemoryLedger ledger = new MemoryLedger("host", 3 * EXPERT);
    final HostMemory memory = new HostMemory();
    final TierCounters counters = new TierCounters(Tier.HOST);
    final PrefetchCounters prefetch = new PrefetchCounters();
    final AtomicInteger fills = new AtomicInteger();
    final TierCache cache = new TierCache(Tier.HOST, ledger, memory, Policies.create("lru", 3), counters, prefetch,
            id -> EXPERT, (id, dst) -> {
                fills.incrementAndGet();
                dst.fill((byte) (id.expert() + 1));
                return Tier.ORIGIN;
            });

    @AfterEach
    void close() {
        cache.close();
        memory.close();
    }

    static ExpertLayout layout(int expert) {
        String p = "model.layers.0.block_sparse_moe.experts." + expert + ".";
        List<String> names = List.of(p + "w1.weight", p + "w3.weight", p + "w2.weight");
        GroupInfo g = new GroupInfo(GroupInfo.EXPERT, 0, expert, List.of(0), 0, EXPERT, names, null);
        Map<ExpertProjection, ExpertLayout.Part> parts = new EnumMap<>(ExpertProjection.class);
        for (ExpertProjection proj : ExpertProjection.values()) {
            parts.put(proj, new ExpertLayout.Part(names.get(proj.ordinal()), proj.ordinal() * PART, PART, DType.F32,
                    new long[]{32, 32}, Layout.ROW));
        }
        return new ExpertLayout(new ExpertId(0, expert), g, parts);
    }

    @Test
    void aPinnedCopyIsNeverEvictedAndAHitLoadsNothing() {
        try (ExpertHandle a = ExpertHandle.open(cache, layout(0), Double.NaN)) {
            for (int e = 1; e < 6; e++) {
                try (ExpertHandle h = ExpertHandle.open(cache, layout(e), Double.NaN)) {
                    assertEquals((byte) (e + 1), h.tensor(ExpertProjection.DOWN).data().get(ValueLayout.JAVA_BYTE, 0));
                }
                assertTrue(ledger.used() <= ledger.budget());
            }
            assertTrue(cache.contains(new ExpertId(0, 0)), "pinned through five evicting loads");
            assertEquals((byte) 1, a.bytes().get(ValueLayout.JAVA_BYTE, EXPERT - 1));
        }
        int before = fills.get();
        try (ExpertHandle again = ExpertHandle.open(cache, layout(0), Double.NaN)) {
            assertEquals(before, fills.get(), "a resident expert is a hit: no fill");
        }
        assertTrue(ledger.highWater() <= ledger.budget());
    }

    @Test
    void aCopyEvictedWhilePinnedIsRetiredNotFreed() {
        ExpertHandle h = ExpertHandle.open(cache, layout(0), Double.NaN);
        MemorySegment bytes = h.bytes();
        cache.close(); // retires every resident copy
        assertEquals((byte) 1, bytes.get(ValueLayout.JAVA_BYTE, 0), "still readable while pinned");
        assertEquals(EXPERT, ledger.used(), "and still counted");
        h.close();
        assertEquals(0, ledger.used(), "the last unpin frees it");
        assertThrows(IllegalStateException.class, () -> bytes.get(ValueLayout.JAVA_BYTE, 0));
        assertThrows(IllegalStateException.class, h::bytes, "a closed handle refuses reads");
    }

    @Test
    void aRequestThatCannotFitNamesTheTierAndThePinnedBytes() {
        try (ExpertHandle a = ExpertHandle.open(cache, layout(0), Double.NaN);
             ExpertHandle b = ExpertHandle.open(cache, layout(1), Double.NaN);
             ExpertHandle c = ExpertHandle.open(cache, layout(2), Double.NaN)) {
            BudgetExceededException e = assertThrows(BudgetExceededException.class,
                    () -> ExpertHandle.open(cache, layout(3), Double.NaN));
            assertTrue(e.getMessage().contains("host"), e.getMessage());
            assertEquals(3 * EXPERT, ledger.used(), "the failed load released what it reserved");
        }
    }

    @Test
    void unpinningMoreThanPinnedIsAnError() {
        Resident r = cache.pin(new ExpertId(0, 4), Double.NaN);
        cache.unpin(r);
        assertThrows(IllegalStateException.class, () -> cache.unpin(r));
    }

    @Test
    void aPrefetchedCopyCountsOnceWhenUsedAndIsNotEvictedByAnotherPrefetch() {
        assertTrue(cache.prefetch(new ExpertId(0, 0), id -> false));
        assertTrue(cache.prefetch(new ExpertId(0, 1), id -> false));
        assertTrue(cache.prefetch(new ExpertId(0, 2), id -> false));
        assertFalse(cache.prefetch(new ExpertId(0, 3), id -> false), "prefetch never evicts an unused prefetch");
        try (ExpertHandle h = ExpertHandle.open(cache, layout(0), Double.NaN)) {
            assertEquals(1, prefetch.snapshot().hits());
        }
        try (ExpertHandle h = ExpertHandle.open(cache, layout(0), Double.NaN)) {
            assertEquals(1, prefetch.snapshot().hits(), "the second use is an ordinary hit");
        }
    }

    @Test
    void aDroppedHandleIsReportedAndItsPinReleased() throws InterruptedException {
        HandleLeakDetector.drainReports();
        openAndDrop(5);
        List<String> reports = HandleLeakDetector.collectAndDrain(1000);
        assertEquals(1, reports.size(), "the leak is reported once: " + reports);
        assertTrue(reports.getFirst().contains("expert L0/E5 (HOST tier) was never closed"), reports.getFirst());
        assertTrue(reports.getFirst().contains("openAndDrop"), "paranoid tests record where it was opened: "
                + reports.getFirst());
        assertEquals(EXPERT, cache.evict(EXPERT), "unpinned by the detector, so evictable");
        assertEquals(0, ledger.used());
    }

    private void openAndDrop(int expert) {
        ExpertHandle h = ExpertHandle.open(cache, layout(expert), Double.NaN);
        assertEquals((byte) (expert + 1), h.bytes().get(ValueLayout.JAVA_BYTE, 0));
    }
}
