package io.strata.kernels.cuda;

import io.strata.nativeaccess.cuda.CudaDevice;
import io.strata.nativeaccess.cuda.CudaDriver;
import io.strata.nativeaccess.cuda.CudaStream;
import io.strata.nativeaccess.cuda.ManagedBuffer;
import io.strata.nativeaccess.cuda.PinnedHostBuffer;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.strata.core.model.DType;
import io.strata.core.model.ExpertId;
import io.strata.core.model.ExpertProjection;
import io.strata.core.model.Layout;
import io.strata.core.weights.ExpertWeights;
import io.strata.core.weights.TensorView;
import io.strata.kernels.cpu.MatVec;
import io.strata.kernels.cpu.SwiGlu;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The GPU expert FFN over weights in managed VRAM, against the CPU kernels on the very same bytes. */
class CudaExpertFfnTest {
    private static final int HIDDEN = 160;
    private static final int INTER = 333;

    private static CudaDevice device;
    private static CudaKernels kernels;

    @BeforeAll
    static void open() {
        assumeTrue(CudaDriver.load().isPresent(), () -> "no CUDA: " + CudaDriver.availability().reason());
        device = CudaDevice.openDefault().orElseThrow();
        assumeTrue(device.supportsManagedMemory(), "no managed memory on this system");
        kernels = CudaKernels.load(device);
    }

    @AfterAll
    static void close() {
        if (device != null) {
            device.close();
        }
    }

    /** An expert whose three projections lie in one block (w1 | w3 | w2), as the device tier stores them. */
    private record BlockExpert(ExpertId id, Map<ExpertProjection, TensorView> tensors) implements ExpertWeights {
        @Override
        public TensorView tensor(ExpertProjection projection) {
            return tensors.get(projection);
        }

        @Override
        public void close() {
        }

        static BlockExpert in(MemorySegment block, DType type) {
            long proj = (long) HIDDEN * INTER * type.byteSize();
            return new BlockExpert(new ExpertId(0, 0), Map.of(
                    ExpertProjection.GATE, new TensorView("w1", block.asSlice(0, proj), type, new long[]{INTER, HIDDEN}, Layout.ROW),
                    ExpertProjection.UP, new TensorView("w3", block.asSlice(proj, proj), type, new long[]{INTER, HIDDEN}, Layout.ROW),
                    ExpertProjection.DOWN, new TensorView("w2", block.asSlice(2 * proj, proj), type, new long[]{HIDDEN, INTER},
                            Layout.ROW)));
        }
    }

    private static void fillRandom(MemorySegment block, DType type, long seed) {
        Random r = new Random(seed);
        long n = block.byteSize() / type.byteSize();
        for (long i = 0; i < n; i++) {
            float v = (float) r.nextGaussian() * 0.05f;
            if (type == DType.F32) {
                block.setAtIndex(JAVA_FLOAT, i, v);
            } else {
                block.setAtIndex(JAVA_SHORT, i, (short) (Float.floatToRawIntBits(v) >>> 16));
            }
        }
    }

    private static float[] input() {
        Random r = new Random(99);
        float[] x = new float[HIDDEN];
        for (int i = 0; i < HIDDEN; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return x;
    }

    private void matchesTheCpuKernels(DType type) {
        long bytes = 3L * HIDDEN * INTER * type.byteSize();
        try (ManagedBuffer block = device.allocateManaged(bytes);
             PinnedHostBuffer staging = device.allocatePinned(bytes);
             CudaStream copies = device.createStream();
             CudaExpertFfn ffn = new CudaExpertFfn(device, kernels, HIDDEN, INTER)) {
            fillRandom(staging.segment(), type, 5);
            block.copyFromAsync(0, staging.segment(), copies); // DMA: the pages land in VRAM
            copies.synchronize();
            float[] x = input();
            float[] gpu = ffn.forward(BlockExpert.in(block.segment(), type), x);

            float[] cpu = new float[HIDDEN];
            BlockExpert onHost = BlockExpert.in(staging.segment(), type);
            SwiGlu.apply(MatVec.scalar(), onHost.tensor(ExpertProjection.GATE), onHost.tensor(ExpertProjection.UP),
                    onHost.tensor(ExpertProjection.DOWN), x, new float[INTER], new float[INTER], cpu);
            for (int i = 0; i < HIDDEN; i++) {
                double err = Math.abs(cpu[i] - gpu[i]);
                assertTrue(err <= 1e-4 * (1 + Math.abs(cpu[i])), type + " element " + i + ": cpu " + cpu[i]
                        + ", gpu " + gpu[i]);
            }
        }
    }

    @Test
    void f32ExpertMatchesTheCpuKernels() {
        matchesTheCpuKernels(DType.F32);
    }

    @Test
    void bf16ExpertMatchesTheCpuKernels() {
        matchesTheCpuKernels(DType.BF16);
    }

    @Test
    void weightsInPageableHostMemoryAreRefusedNotFaulted() {
        try (Arena arena = Arena.ofConfined(); CudaExpertFfn ffn = new CudaExpertFfn(device, kernels, HIDDEN, INTER)) {
            MemorySegment pageable = arena.allocate(3L * HIDDEN * INTER * 4);
            assumeTrue(device.driver().devicePointer(pageable.address()).isEmpty(),
                    "this system lets the GPU address pageable memory (HMM): nothing to refuse");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ffn.forward(BlockExpert.in(pageable, DType.F32), input()));
            assertTrue(e.getMessage().contains("cannot address"), e.getMessage());
            // The context survived: the FFN still works on device-addressable weights.
        }
        matchesTheCpuKernels(DType.F32);
    }

    @Test
    void wrongShapesAreRefused() {
        try (ManagedBuffer block = device.allocateManaged(3L * HIDDEN * INTER * 4);
             CudaExpertFfn ffn = new CudaExpertFfn(device, kernels, HIDDEN + 1, INTER)) {
            assertThrows(IllegalArgumentException.class,
                    () -> ffn.forward(BlockExpert.in(block.segment(), DType.F32), new float[HIDDEN + 1]));
        }
    }
}
