package io.strata.loader.runtime;

import io.strata.core.model.ExpertProjection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.core.memory.Pool;
import io.strata.core.model.ExpertId;
import io.strata.core.model.Layout;
import io.strata.core.model.Tier;
import io.strata.core.telemetry.TelemetrySnapshot;
import io.strata.loader.cache.ExpertHandle;
import io.strata.storage.model.ConvertedModel;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 8 threads pin, read and release experts for thousands of operations while firing prefetch hints, under
 * a device budget of a quarter of the experts and a host budget of half: no budget is ever crossed, every byte
 * read equals the origin's, and a closed handle always throws.
 */
class ConcurrentPagingTest {
    static final int LAYERS = 4;
    static final int EXPERTS = 16;
    static final int THREADS = 8;
    static final int OPS = 2000;

    @TempDir
    Path tmp;

    @Test
    void budgetsHoldAndBytesAreRightUnderContention() throws Exception {
        TestModels.Model m = TestModels.mixtral(tmp, LAYERS, EXPERTS, 32, 32, Layout.ROW, 1);
        Map<ExpertId, byte[]> expected = new HashMap<>();
        long per;
        try (ConvertedModel origin = ConvertedModel.open(m.converted())) {
            per = origin.manifest().moeConfig().expertBytes();
            for (int l = 0; l < LAYERS; l++) {
                for (int e = 0; e < EXPERTS; e++) {
                    ExpertId id = new ExpertId(l, e);
                    expected.put(id, origin.expertGroup(id).toArray(ValueLayout.JAVA_BYTE));
                }
            }
        }
        int total = LAYERS * EXPERTS;
        long deviceBudget = per * total / 4;
        long hostBudget = per * total / 2;
        RuntimeOptions o = RuntimeOptions.builder().noDiskCache().deviceBudget(deviceBudget).simulatedDevice(true).hostBudget(hostBudget)
                .prefetch(true).ioThreads(2).build();
        try (ModelRuntime rt = ModelRuntime.open(m.converted(), o)) {
            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            CountDownLatch start = new CountDownLatch(1);
            try {
                List<Future<Integer>> workers = new ArrayList<>();
                for (int t = 0; t < THREADS; t++) {
                    long seed = 1000 + t;
                    workers.add(pool.submit(() -> work(rt, expected, start, seed, deviceBudget, hostBudget)));
                }
                start.countDown();
                int checked = 0;
                for (Future<Integer> f : workers) {
                    checked += f.get();
                }
                assertEquals(THREADS * OPS, checked);
            } finally {
                pool.shutdownNow();
            }
            rt.drainPrefetch();
            TelemetrySnapshot s = rt.telemetry();
            assertTrue(rt.ledger(Tier.DEVICE).highWater() > 0, "the device ledger is the one its cache reserves in");
            assertTrue(rt.ledger(Tier.DEVICE).highWater() <= deviceBudget, "device high water "
                    + rt.ledger(Tier.DEVICE).highWater() + " > " + deviceBudget);
            assertTrue(rt.ledger(Tier.HOST).highWater() <= hostBudget, "host high water over budget");
            assertTrue(s.tier(Tier.DEVICE).evictions() > 0, "the budget forced evictions");
            assertTrue(s.tier(Tier.DEVICE).hits() > 0);
            assertTrue(rt.ledger(Tier.DEVICE).used(Pool.EXPERTS) <= deviceBudget);
        }
    }

    private static Integer work(ModelRuntime rt, Map<ExpertId, byte[]> expected, CountDownLatch start, long seed,
                                long deviceBudget, long hostBudget) throws Exception {
        SplittableRandom rnd = new SplittableRandom(seed);
        Deque<ExpertHandle> held = new ArrayDeque<>();
        start.await();
        int checked = 0;
        for (int i = 0; i < OPS; i++) {
            int layer = rnd.nextInt(LAYERS);
            // skewed choice, like a router: low expert ids are hot
            int e = Math.min(EXPERTS - 1, (int) Math.abs(rnd.nextDouble() * rnd.nextDouble() * EXPERTS));
            if (i % 4 == 0) { // the decoder's hints, racing with everything else
                rt.prefetch((layer + 1) % LAYERS, new int[]{rnd.nextInt(EXPERTS), rnd.nextInt(EXPERTS)});
                rt.observeRouting(layer, new int[]{e, rnd.nextInt(EXPERTS)});
            }
            ExpertHandle h = rt.expert(layer, e);
            MemorySegment bytes = h.bytes();
            byte[] want = expected.get(h.id());
            if (MemorySegment.ofArray(want).mismatch(bytes) != -1) {
                throw new AssertionError("bytes of " + h.id() + " differ from the origin");
            }
            checked++;
            held.add(h);
            if (held.size() > 1 || rnd.nextBoolean()) { // at most 2 pinned per thread
                ExpertHandle old = held.poll();
                old.close();
                assertThrows(IllegalStateException.class, () -> old.tensor(ExpertProjection.ofKey("w1")));
            }
            if (rt.ledger(Tier.DEVICE).used() > deviceBudget || rt.ledger(Tier.HOST).used() > hostBudget) {
                throw new AssertionError("a budget was crossed");
            }
        }
        held.forEach(ExpertHandle::close);
        return checked;
    }
}
