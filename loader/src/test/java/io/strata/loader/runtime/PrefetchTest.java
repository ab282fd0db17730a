package io.strata.loader.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.core.model.Layout;
import io.strata.core.model.Tier;
import io.strata.core.telemetry.TelemetrySnapshot;
import io.strata.loader.cache.ExpertHandle;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PrefetchTest {
    @TempDir
    Path tmp;

    @Test
    void hintedExpertsAreResidentBeforeComputeAsksAndCountAsHits() throws Exception {
        TestModels.Model m = TestModels.mixtral(tmp, 2, 8, 64, 96, Layout.ROW, 1);
        long per = TestModels.expertBytes(m);
        try (ModelRuntime rt = ModelRuntime.open(m.converted(), RuntimeOptions.builder().noDiskCache()
                .hostBudget(8 * per).prefetch(true).frequencyPrefetch(false).build())) {
            rt.prefetch(1, new int[]{3, 6});
            rt.drainPrefetch();
            try (ExpertHandle a = rt.expert(1, 3); ExpertHandle b = rt.expert(1, 6)) {
                assertEquals(3, a.id().expert());
                assertEquals(6, b.id().expert());
            }
            TelemetrySnapshot t = rt.telemetry();
            assertEquals(2, t.prefetch().issued());
            assertEquals(2, t.prefetch().hits());
            assertEquals(2, t.tier(Tier.HOST).hits(), "compute found both resident");
            assertEquals(0, t.tier(Tier.HOST).misses());
        }
    }

    @Test
    void prefetchNeverEvictsPinnedOrNeededExpertsAndWastedGuessesAreCounted() throws Exception {
        TestModels.Model m = TestModels.mixtral(tmp, 2, 8, 64, 96, Layout.ROW, 1);
        long per = TestModels.expertBytes(m);
        try (ModelRuntime rt = ModelRuntime.open(m.converted(), RuntimeOptions.builder().noDiskCache()
                .hostBudget(3 * per).prefetch(true).frequencyPrefetch(false).build())) {
            List<ExpertHandle> pinned = new ArrayList<>();
            pinned.add(rt.expert(0, 0));
            pinned.add(rt.expert(0, 1));
            rt.observeRouting(0, new int[]{0, 1});
            rt.prefetch(1, new int[]{5, 7}); // room for one: the second must not evict a pinned expert
            rt.drainPrefetch();
            TelemetrySnapshot t = rt.telemetry();
            assertEquals(1, t.prefetch().issued());
            assertEquals(1, t.prefetch().skipped());
            assertTrue(rt.ledger(Tier.HOST).highWater() <= 3 * per);
            pinned.forEach(ExpertHandle::close);
            // a demand load evicts the unused prefetched expert: that guess was wasted
            rt.expert(0, 2).close();
            rt.expert(0, 3).close();
            rt.expert(0, 4).close();
            TelemetrySnapshot after = rt.telemetry();
            assertEquals(1, after.prefetch().wasted());
            assertEquals(0, after.prefetch().hits());
        }
    }

    /**
     * With every reader busy, guesses for layer 1 queue (one loading, its read queued; one waiting on the prefetch
     * pool); layer 1's real routing then chooses neither: both are dropped and their bytes never read from the
     * model's files, while the expert routing chose is read. With first-come-first-served reads the same guesses
     * are read in full: the test fails without the cancellation.
     */
    @Test
    void wrongQueuedGuessesAreCancelledWhenTheLayersRoutingIsKnownAndTheirBytesAreNotRead() throws Exception {
        TestModels.Model m = TestModels.mixtral(tmp, 2, 8, 64, 96, Layout.ROW, 1);
        long per = TestModels.expertBytes(m);
        for (boolean prioritize : new boolean[]{true, false}) {
            try (ModelRuntime rt = ModelRuntime.open(m.converted(), RuntimeOptions.builder().noDiskCache()
                    .hostBudget(8 * per).prefetch(true).frequencyPrefetch(false).ioThreads(1)
                    .prioritizeReads(prioritize).build())) {
                io.strata.loader.source.ReadQueue q = rt.readQueue();
                java.util.concurrent.CountDownLatch running = new java.util.concurrent.CountDownLatch(q.readers());
                java.util.concurrent.CountDownLatch gate = new java.util.concurrent.CountDownLatch(1);
                for (int i = 0; i < q.readers(); i++) {
                    q.submit(null, () -> {
                        running.countDown();
                        try {
                            gate.await();
                        } catch (InterruptedException e) {
                            throw new java.io.InterruptedIOException();
                        }
                    });
                }
                running.await();
                rt.prefetch(1, new int[]{3, 6}); // 3 starts loading (its read queues), 6 waits for the pool
                long deadline = System.nanoTime() + 30_000_000_000L;
                while (q.queued() < 1) { // 3's read has reached the queue
                    assertTrue(System.nanoTime() < deadline, "the guess's read never queued");
                    Thread.onSpinWait();
                }
                rt.observeRouting(1, new int[]{5}); // the real routing: neither guess
                gate.countDown();
                rt.drainPrefetch();
                rt.expert(1, 5).close();
                TelemetrySnapshot t = rt.telemetry();
                if (prioritize) {
                    assertEquals(2, t.prefetch().cancelled(), "both wrong guesses dropped");
                    assertEquals(per, t.tier(Tier.ORIGIN).bytesOut(), "only the routed expert was read");
                    assertEquals(1, t.tier(Tier.ORIGIN).hits());
                } else {
                    assertEquals(0, t.prefetch().cancelled());
                    assertEquals(3 * per, t.tier(Tier.ORIGIN).bytesOut(), "without cancelling, guesses are read");
                }
                assertTrue(rt.ledger(Tier.HOST).highWater() <= 8 * per);
            }
        }
    }

    @Test
    void awaitReadyAnswersAResidentExpertBeforeOneStillToBeRead() throws Exception {
        TestModels.Model m = TestModels.mixtral(tmp, 2, 8, 64, 96, Layout.ROW, 1);
        long per = TestModels.expertBytes(m);
        for (boolean arrival : new boolean[]{true, false}) {
            try (ModelRuntime rt = ModelRuntime.open(m.converted(), RuntimeOptions.builder().noDiskCache()
                    .hostBudget(8 * per).prefetch(false).arrivalOrder(arrival).build())) {
                rt.expert(0, 6).close(); // resident now; 2 and 4 are not
                int[] routed = {2, 4, 6};
                assertEquals(arrival ? 2 : 0, rt.awaitReady(0, routed, 0, 3));
                assertEquals(arrival ? 0 : 1, rt.awaitReady(0, routed, 0, 2) + (arrival ? 0 : 1),
                        "none resident, none loading: the first, whose pin reads it");
            }
        }
    }
}
