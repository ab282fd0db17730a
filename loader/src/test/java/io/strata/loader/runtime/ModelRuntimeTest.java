package io.strata.loader.runtime;

import io.strata.core.model.ExpertProjection;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.core.memory.BudgetExceededException;
import io.strata.core.memory.Pool;
import io.strata.core.model.Layout;
import io.strata.core.model.ModelFamily;
import io.strata.core.model.Tier;
import io.strata.core.telemetry.TelemetrySnapshot;
import io.strata.core.weights.TensorView;
import io.strata.loader.cache.ExpertHandle;
import io.strata.loader.runtime.ReadMode;
import io.strata.storage.safetensors.Checkpoint;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelRuntimeTest {
    static final int LAYERS = 2;
    static final int EXPERTS = 8;

    @TempDir
    Path tmp;

    static void assertSameBytes(MemorySegment expected, MemorySegment actual, String what) {
        assertEquals(expected.byteSize(), actual.byteSize(), what + " size");
        assertEquals(-1, expected.mismatch(actual), what + " differs from the source");
    }

    @Test
    void everyExpertLoadsCorrectlyWhenExpertsAreFourTimesTheHostBudget() throws Exception {
        TestModels.Model m = TestModels.mixtral(tmp, LAYERS, EXPERTS, 64, 96, Layout.ROW, 1);
        try (Checkpoint src = Checkpoint.open(m.source())) {
            long budget = LAYERS * EXPERTS * TestModels.expertBytes(m) / 4;
            // LRU, so that cycling through every expert misses every time (a smarter default keeps a few)
            RuntimeOptions o = RuntimeOptions.builder().noDiskCache().hostBudget(budget).prefetch(false)
                    .policy("lru").build();
            try (ModelRuntime rt = ModelRuntime.open(m.converted(), o)) {
                for (int round = 0; round < 2; round++) {
                    for (int l = 0; l < LAYERS; l++) {
                        for (int e = 0; e < EXPERTS; e++) {
                            try (ExpertHandle h = rt.expert(l, e)) {
                                for (String p : List.of("w1", "w2", "w3")) {
                                    TensorView v = h.tensor(ExpertProjection.ofKey(p));
                                    String name = TestModels.expertTensor(ModelFamily.MIXTRAL, l, e, p);
                                    assertSameBytes(src.tensor(name).data(), v.data(), name);
                                    assertArrayEquals(src.tensor(name).shape(), v.shape(), name);
                                }
                            }
                        }
                    }
                }
                TelemetrySnapshot t = rt.telemetry();
                assertTrue(rt.ledger(Tier.HOST).highWater() <= budget, "host high water over budget");
                assertEquals(2L * LAYERS * EXPERTS, t.tier(Tier.HOST).misses(), "a quarter fits: every access misses"
                        + " under LRU-like cycling of all experts");
                assertTrue(t.tier(Tier.HOST).evictions() > 0);
            }
        }
    }

    @Test
    void pinnedExpertsAreNeverEvictedAndAFullBudgetFailsClearly() throws Exception {
        TestModels.Model m = TestModels.mixtral(tmp, LAYERS, EXPERTS, 64, 96, Layout.ROW, 1);
        long per = TestModels.expertBytes(m);
        RuntimeOptions o = RuntimeOptions.builder().noDiskCache().hostBudget(3 * per).prefetch(false).build();
        try (ModelRuntime rt = ModelRuntime.open(m.converted(), o)) {
            List<ExpertHandle> pinned = new ArrayList<>();
            for (int e = 0; e < 3; e++) {
                pinned.add(rt.expert(0, e));
            }
            MemorySegment before = pinned.getFirst().tensor(ExpertProjection.ofKey("w1")).data();
            float first = before.get(ValueLayout.JAVA_FLOAT, 0);
            BudgetExceededException ex = assertThrows(BudgetExceededException.class, () -> rt.expert(0, 3));
            assertEquals(Pool.EXPERTS, ex.pool());
            assertEquals(3 * per, ex.pinned());
            assertTrue(ex.getMessage().contains("host"), ex.getMessage());
            assertEquals(first, before.get(ValueLayout.JAVA_FLOAT, 0), "pinned memory stayed valid");
            pinned.removeFirst().close();
            try (ExpertHandle h = rt.expert(0, 3)) {
                assertEquals("w1", "w1");
                assertTrue(h.isOpen());
            }
            pinned.forEach(ExpertHandle::close);
            assertTrue(rt.ledger(Tier.HOST).highWater() <= 3 * per);
        }
    }

    @Test
    void aClosedHandleThrowsAndAViewOfAnEvictedCopyThrowsInsteadOfReadingFreedMemory() throws Exception {
        TestModels.Model m = TestModels.mixtral(tmp, LAYERS, EXPERTS, 64, 96, Layout.ROW, 1);
        long per = TestModels.expertBytes(m);
        for (long device : new long[]{0, per}) { // host tier, then a one-expert device tier
            try (ModelRuntime rt = ModelRuntime.open(m.converted(), RuntimeOptions.builder().noDiskCache()
                    .hostBudget(per).deviceBudget(device).simulatedDevice(true).prefetch(false).build())) {
                ExpertHandle h = rt.expert(1, 2);
                TensorView v = h.tensor(ExpertProjection.ofKey("w2"));
                h.close();
                h.close(); // idempotent
                IllegalStateException a = assertThrows(IllegalStateException.class, () -> h.tensor(ExpertProjection.ofKey("w1")));
                assertTrue(a.getMessage().contains("closed"), a.getMessage());
                assertThrows(IllegalStateException.class, h::bytes);
                rt.expert(0, 0).close(); // the budget holds one expert: this evicts and frees L1/E2
                assertThrows(IllegalStateException.class, () -> v.data().get(ValueLayout.JAVA_FLOAT, 0));
            }
        }
    }

    @Test
    void deviceTierPagesFromHostAndStaysWithinBothBudgets() throws Exception {
        TestModels.Model m = TestModels.mixtral(tmp, LAYERS, EXPERTS, 64, 96, Layout.ROW, 1);
        try (Checkpoint src = Checkpoint.open(m.source())) {
            long per = TestModels.expertBytes(m);
            long deviceBudget = 3 * per + per / 2; // room for 3 experts, fragmentation possible
            RuntimeOptions o = RuntimeOptions.builder().noDiskCache().hostBudget(6 * per).deviceBudget(deviceBudget).simulatedDevice(true)
                    .policy("lru").prefetch(false).build();
            try (ModelRuntime rt = ModelRuntime.open(m.converted(), o)) {
                assertEquals(Tier.DEVICE, rt.computeTier());
                for (int i = 0; i < 40; i++) {
                    int l = i % LAYERS;
                    int e = (i * 5) % EXPERTS;
                    try (ExpertHandle h = rt.expert(l, e)) {
                        assertEquals(Tier.DEVICE, h.tier());
                        String name = TestModels.expertTensor(ModelFamily.MIXTRAL, l, e, "w3");
                        assertSameBytes(src.tensor(name).data(), h.tensor(ExpertProjection.ofKey("w3")).data(), name);
                    }
                }
                TelemetrySnapshot t = rt.telemetry();
                assertTrue(t.tier(Tier.DEVICE).highWater() <= deviceBudget);
                assertTrue(t.tier(Tier.DEVICE).highWater() > 0, "the device ledger reports what its cache holds");
                assertTrue(t.tier(Tier.HOST).highWater() <= 6 * per);
                assertEquals(t.tier(Tier.DEVICE).misses(), t.tier(Tier.HOST).hits() + t.tier(Tier.HOST).misses(),
                        "every device miss asks the host");
                assertTrue(t.tier(Tier.DEVICE).bytesIn() >= t.tier(Tier.DEVICE).misses() * per);
                assertTrue(t.format().contains("device"));
            }
        }
    }

    @Test
    void everyPolicyDrivesTheRuntimeWithinBudget() throws Exception {
        TestModels.Model m = TestModels.mixtral(tmp, LAYERS, EXPERTS, 64, 96, Layout.ROW, 1);
        try (Checkpoint src = Checkpoint.open(m.source())) {
            for (String policy : io.strata.loader.policy.Policies.NAMES) {
                long per = TestModels.expertBytes(m);
                try (ModelRuntime rt = ModelRuntime.open(m.converted(), RuntimeOptions.builder().noDiskCache()
                        .hostBudget(5 * per).deviceBudget(2 * per).simulatedDevice(true).policy(policy).prefetch(false).build())) {
                    java.util.Random rnd = new java.util.Random(4);
                    for (int i = 0; i < 60; i++) {
                        int l = rnd.nextInt(LAYERS);
                        int e = Math.min(EXPERTS - 1, (int) (rnd.nextDouble() * rnd.nextDouble() * EXPERTS));
                        try (ExpertHandle h = rt.expert(l, e)) {
                            String name = TestModels.expertTensor(ModelFamily.MIXTRAL, l, e, "w1");
                            assertSameBytes(src.tensor(name).data(), h.tensor(ExpertProjection.ofKey("w1")).data(), policy + " " + name);
                        }
                    }
                    TelemetrySnapshot t = rt.telemetry();
                    assertTrue(t.tier(Tier.DEVICE).highWater() <= 2 * per, policy);
                    assertTrue(t.tier(Tier.DEVICE).highWater() > 0, policy);
                    assertTrue(t.tier(Tier.HOST).highWater() <= 5 * per, policy);
                    assertTrue(t.tier(Tier.DEVICE).hits() > 0, policy + " never hit");
                }
            }
        }
    }

    @Test
    void aLocalModelDirectoryIsReadInPlaceAndNothingIsWrittenToTheDiskCache() throws Exception {
        TestModels.Model m = TestModels.mixtral(tmp, LAYERS, EXPERTS, 64, 96, Layout.ROW, 1);
        Path cache = tmp.resolve("cache");
        for (ReadMode mode : ReadMode.values()) {
            RuntimeOptions o = RuntimeOptions.builder().cacheDir(cache).diskBudget(64 << 20).hostBudget(64 << 20)
                    .prefetch(false).readMode(mode).build();
            try (Checkpoint src = Checkpoint.open(m.source());
                 ModelRuntime rt = ModelRuntime.open(m.converted(), o)) {
                for (int l = 0; l < LAYERS; l++) {
                    for (int e = 0; e < EXPERTS; e++) {
                        try (ExpertHandle h = rt.expert(l, e)) {
                            for (String p : List.of("w1", "w2", "w3")) {
                                String name = TestModels.expertTensor(ModelFamily.MIXTRAL, l, e, p);
                                assertSameBytes(src.tensor(name).data(), h.tensor(ExpertProjection.ofKey(p)).data(),
                                        mode + " " + name);
                            }
                        }
                    }
                }
                TelemetrySnapshot t = rt.telemetry();
                assertEquals(LAYERS * EXPERTS, t.tier(Tier.ORIGIN).hits(), mode.toString());
                assertEquals(0, t.tier(Tier.DISK).bytesIn(), mode + ": bytes written to the disk cache");
                assertEquals(0, t.tier(Tier.DISK).used(), mode.toString());
                assertEquals(0, t.tier(Tier.DISK).hits() + t.tier(Tier.DISK).misses(), mode + ": disk cache asked");
            }
            try (var blobs = java.nio.file.Files.walk(cache)) {
                assertEquals(0, blobs.filter(java.nio.file.Files::isRegularFile).count(), mode + ": blobs on disk");
            }
        }
    }

    @Test
    void withCacheLocalTheSecondRunReadsExpertsFromTheDiskCacheNotTheOrigin() throws Exception {
        TestModels.Model m = TestModels.mixtral(tmp, LAYERS, EXPERTS, 64, 96, Layout.ROW, 1);
        Path cache = tmp.resolve("cache");
        RuntimeOptions o = RuntimeOptions.builder().cacheDir(cache).diskBudget(64 << 20).hostBudget(64 << 20)
                .prefetch(false).cacheLocal(true).build();
        try (ModelRuntime rt = ModelRuntime.open(m.converted(), o)) {
            for (int e = 0; e < EXPERTS; e++) {
                rt.expert(0, e).close();
            }
            TelemetrySnapshot t = rt.telemetry();
            assertEquals(EXPERTS, t.tier(Tier.ORIGIN).hits());
            assertEquals(EXPERTS, t.tier(Tier.DISK).misses());
            assertEquals(0, t.tier(Tier.DISK).hits());
        }
        try (Checkpoint src = Checkpoint.open(m.source());
             ModelRuntime rt = ModelRuntime.open(m.converted(), o)) {
            for (int e = 0; e < EXPERTS; e++) {
                try (ExpertHandle h = rt.expert(0, e)) {
                    String name = TestModels.expertTensor(ModelFamily.MIXTRAL, 0, e, "w1");
                    assertSameBytes(src.tensor(name).data(), h.tensor(ExpertProjection.ofKey("w1")).data(), name);
                }
            }
            TelemetrySnapshot t = rt.telemetry();
            assertEquals(0, t.tier(Tier.ORIGIN).hits(), "no origin read in the second run");
            assertEquals(0, t.tier(Tier.ORIGIN).bytesOut());
            assertEquals(EXPERTS, t.tier(Tier.DISK).hits());
        }
    }

    @Test
    void qwenProjectionsAreMappedToMixtralNames() throws Exception {
        TestModels.Model m = TestModels.build(tmp, ModelFamily.QWEN3_MOE, 1, 4, 64, 32, Layout.ROW, 1);
        try (Checkpoint src = Checkpoint.open(m.source());
             ModelRuntime rt = ModelRuntime.open(m.converted(), RuntimeOptions.builder().noDiskCache()
                     .hostBudget(8 << 20).prefetch(false).build());
             ExpertHandle h = rt.expert(0, 3)) {
            for (String p : List.of("w1", "w2", "w3")) {
                String name = TestModels.expertTensor(ModelFamily.QWEN3_MOE, 0, 3, p);
                assertEquals(name, h.tensor(ExpertProjection.ofKey(p)).name());
                assertSameBytes(src.tensor(name).data(), h.tensor(ExpertProjection.ofKey(p)).data(), name);
            }
        }
    }

    @Test
    void denseTensorsAreBudgetedInTheWeightsPool() throws Exception {
        TestModels.Model m = TestModels.mixtral(tmp, LAYERS, EXPERTS, 64, 96, Layout.ROW, 1);
        String name = "model.layers.1.self_attn.q_proj.weight";
        try (Checkpoint src = Checkpoint.open(m.source());
             ModelRuntime rt = ModelRuntime.open(m.converted(), RuntimeOptions.builder().noDiskCache()
                     .hostBudget(8 << 20).prefetch(false).build())) {
            TensorView v = rt.dense(name);
            assertSameBytes(src.tensor(name).data(), v.data(), name);
            assertEquals(v.data().byteSize(), rt.ledger(Tier.HOST).used(Pool.WEIGHTS));
            assertTrue(rt.hasTensor(name));
            assertEquals(64, rt.config().path("hidden_size").asInt());
        }
    }

    @Test
    void tensorSliceReadsOnlyThatRanksBytes() throws Exception {
        for (Layout layout : Layout.values()) {
            Path root = tmp.resolve(layout.name());
            TestModels.Model m = TestModels.mixtral(root, 1, 2, 64, 96, layout, 1);
            String name = "model.layers.0.self_attn.o_proj.weight"; // [64, 64] logical
            try (Checkpoint src = Checkpoint.open(m.source());
                 ModelRuntime rt = ModelRuntime.open(m.converted(), RuntimeOptions.builder().noDiskCache()
                         .hostBudget(8 << 20).prefetch(false).build())) {
                MemorySegment full = src.tensor(name).data();
                long[] shape = src.tensor(name).shape();
                int tp = 4;
                for (int rank = 0; rank < tp; rank++) {
                    long before = rt.telemetry().tier(Tier.ORIGIN).bytesOut();
                    TensorView v = rt.tensorSlice(name, rank, tp);
                    long read = rt.telemetry().tier(Tier.ORIGIN).bytesOut() - before;
                    assertEquals(full.byteSize() / tp, read, layout + ": read only this rank's bytes");
                    assertEquals(layout, v.layout());
                    long rows = shape[0];
                    long cols = shape[1];
                    if (layout == Layout.ROW) { // rows cut: logical [rows/tp, cols]
                        assertArrayEquals(new long[]{rows / tp, cols}, v.shape());
                        for (long r = 0; r < rows / tp; r++) {
                            for (long c = 0; c < cols; c++) {
                                float want = full.getAtIndex(ValueLayout.JAVA_FLOAT, (rank * rows / tp + r) * cols + c);
                                assertEquals(want, v.data().getAtIndex(ValueLayout.JAVA_FLOAT, r * cols + c));
                            }
                        }
                    } else { // column-major: stored [cols][rows]; the cut is along logical columns
                        long part = cols / tp;
                        assertArrayEquals(new long[]{rows, part}, v.shape());
                        for (long c = 0; c < part; c++) {
                            for (long r = 0; r < rows; r++) {
                                float want = full.getAtIndex(ValueLayout.JAVA_FLOAT, r * cols + rank * part + c);
                                assertEquals(want, v.data().getAtIndex(ValueLayout.JAVA_FLOAT, c * rows + r));
                            }
                        }
                    }
                }
                assertThrows(IllegalArgumentException.class, () -> rt.tensorSlice(name, 4, 4));
            }
        }
    }
}
