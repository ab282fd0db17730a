package io.strata.loader.tier;

import io.strata.core.model.ExpertProjection;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.strata.core.manifest.GroupInfo;
import io.strata.core.memory.MemoryLedger;
import io.strata.core.model.DType;
import io.strata.core.model.ExpertId;
import io.strata.core.model.Layout;
import io.strata.core.model.Tier;
import io.strata.core.telemetry.PrefetchCounters;
import io.strata.core.telemetry.TierCounters;
import io.strata.core.weights.ExpertWeights;
import io.strata.core.weights.TensorView;
import io.strata.kernels.cpu.MatVec;
import io.strata.kernels.cpu.SwiGlu;
import io.strata.nativeaccess.cuda.CudaDevice;
import io.strata.nativeaccess.cuda.CudaDriver;
import io.strata.kernels.cuda.CudaExpertFfn;
import io.strata.kernels.cuda.CudaKernels;
import io.strata.loader.cache.ExpertHandle;
import io.strata.loader.cache.ExpertLayout;
import io.strata.loader.cache.TierCache;
import io.strata.loader.policy.Policies;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The runtime's own {@link TierCache} over the CUDA device tier: experts paged into VRAM through pinned staging
 * under a budget of two experts, each one computed on the GPU where it lies and checked against the CPU kernels
 * on the source bytes. Skipped (with the reason) without a GPU.
 */
class CudaDeviceTierTest {
    private static final int HIDDEN = 128;
    private static final int INTER = 256;
    private static final int EXPERTS = 6;
    private static final long PROJ = (long) HIDDEN * INTER * 4;
    private static final long EXPERT_BYTES = 3 * PROJ;

    private static ExpertLayout layout(int expert) {
        String p = "model.layers.0.block_sparse_moe.experts." + expert + ".";
        List<String> names = List.of(p + "w1.weight", p + "w3.weight", p + "w2.weight");
        GroupInfo group = new GroupInfo(GroupInfo.EXPERT, 0, expert, List.of(0), 0, EXPERT_BYTES, names, null);
        long[] up = {INTER, HIDDEN};
        long[] down = {HIDDEN, INTER};
        return new ExpertLayout(new ExpertId(0, expert), group, Map.of(
                ExpertProjection.GATE, new ExpertLayout.Part(names.get(0), 0, PROJ, DType.F32, up, Layout.ROW),
                ExpertProjection.UP, new ExpertLayout.Part(names.get(1), PROJ, PROJ, DType.F32, up, Layout.ROW),
                ExpertProjection.DOWN, new ExpertLayout.Part(names.get(2), 2 * PROJ, PROJ, DType.F32, down, Layout.ROW)));
    }

    private static float[] cpuFfn(MemorySegment source, float[] x) {
        TensorView w1 = new TensorView("w1", source.asSlice(0, PROJ), DType.F32, new long[]{INTER, HIDDEN}, Layout.ROW);
        TensorView w3 = new TensorView("w3", source.asSlice(PROJ, PROJ), DType.F32, new long[]{INTER, HIDDEN},
                Layout.ROW);
        TensorView w2 = new TensorView("w2", source.asSlice(2 * PROJ, PROJ), DType.F32, new long[]{HIDDEN, INTER},
                Layout.ROW);
        float[] out = new float[HIDDEN];
        SwiGlu.apply(MatVec.scalar(), w1, w3, w2, x, new float[INTER], new float[INTER], out);
        return out;
    }

    @Test
    void expertsPagedIntoVramThroughTheTierCacheComputeLikeTheCpu() {
        assumeTrue(CudaDriver.load().isPresent(), () -> "no CUDA: " + CudaDriver.availability().reason());
        Random random = new Random(3);
        try (Arena arena = Arena.ofShared();
             DeviceTiers.DeviceTier tier = DeviceTiers.open(2 * EXPERT_BYTES, EXPERT_BYTES).orElseThrow()) {
            assumeTrue(tier.isCuda(), tier.description());
            MemorySegment[] source = new MemorySegment[EXPERTS];
            for (int e = 0; e < EXPERTS; e++) {
                source[e] = arena.allocate(EXPERT_BYTES, 64);
                for (long i = 0; i < EXPERT_BYTES / 4; i++) {
                    source[e].setAtIndex(JAVA_FLOAT, i, (float) random.nextGaussian() * 0.05f);
                }
            }
            MemoryLedger ledger = tier.newLedger();
            TierCounters counters = new TierCounters(Tier.DEVICE);
            TierCache cache = new TierCache(Tier.DEVICE, ledger, tier.memory(), Policies.create("lru", 2), counters,
                    new PrefetchCounters(), id -> EXPERT_BYTES, tier.filler((id, dst) -> {
                        MemorySegment.copy(source[id.expert()], 0, dst, 0, EXPERT_BYTES);
                        return Tier.HOST;
                    }));
            CudaDevice device = ((CudaDeviceMemory) tier.memory()).device();
            CudaDeviceMemory memory = (CudaDeviceMemory) tier.memory();
            try (CudaExpertFfn ffn = new CudaExpertFfn(device, CudaKernels.load(device), HIDDEN, INTER)) {
                int[] routing = {0, 1, 2, 0, 3, 4, 5, 1, 1, 2};
                for (int step = 0; step < routing.length; step++) {
                    float[] x = new float[HIDDEN];
                    for (int i = 0; i < HIDDEN; i++) {
                        x[i] = (float) random.nextGaussian();
                    }
                    float[] gpu;
                    try (ExpertHandle h = ExpertHandle.open(cache, layout(routing[step]), Double.NaN)) {
                        gpu = ffn.forward((ExpertWeights) h, x);
                    }
                    float[] cpu = cpuFfn(source[routing[step]], x);
                    for (int i = 0; i < HIDDEN; i++) {
                        assertTrue(Math.abs(cpu[i] - gpu[i]) <= 1e-4 * (1 + Math.abs(cpu[i])),
                                "step " + step + " element " + i + ": cpu " + cpu[i] + ", gpu " + gpu[i]);
                    }
                    assertTrue(ledger.used() <= tier.usableBytes());
                    assertTrue(memory.allocatedBytes() <= memory.capacity());
                }
                assertTrue(ledger.highWater() <= tier.usableBytes());
                assertTrue(cache.size() <= 2, "cache holds " + cache.size() + " experts in a 2-expert budget");
            } finally {
                cache.close();
            }
            assertEquals(0, memory.allocatedBytes(), "every block freed after the cache closed");
        }
    }
}
