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
}
