package io.strata.kernels.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.strata.core.model.DType;
import io.strata.kernels.cpu.CpuKernels;
import io.strata.kernels.cpu.NativeKQuantInt8;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link KQuantInt8}'s warm calls allocate nothing: the per-thread buffers have grown, and the compiled Java
 * kernel keeps its vectors in registers (one whose vectors C2 boxes allocates per block). Run in a JVM of its own
 * per kernel choice (kernels/pom.xml, as QuantMatVecAllocationTest: after a whole suite in one JVM C2 was seen to
 * compile such kernels boxing), testing the kernel that JVM was started with.
 */
class KQuantInt8AllocationTest {
    /** Warm calls of rows and batch allocate nothing per call (the per-thread buffers have grown). */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"Q4_K", "Q5_K", "Q6_K"})
    void warmCallsDoNotAllocate(DType t) {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        int rows = 512;
        int nb = 4;
        int cols = nb * 256;
        int count = 8;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment w = QuantMatVecTest.randomBlocks(arena, t, rows, cols, new Random(9));
            float[] x = QuantMatVecTest.randomX(new Random(10), cols * count);
            float[] y = new float[rows * count];
            CpuKernels k = CpuKernels.active();
            if (k == CpuKernels.NATIVE) {
                assumeTrue(NativeKQuantInt8.unavailable() == null, "native int8 kernels unavailable");
            }
            // windows until one is clean or 20 s have passed (until C2's code is installed, C1's boxes vectors;
            // compiled code that boxes stays dirty in every window)
            long least = Long.MAX_VALUE;
            long deadline = System.nanoTime() + 20_000_000_000L;
            for (int window = 0; least > 0 && System.nanoTime() < deadline; window++) {
                long before = mx.getCurrentThreadAllocatedBytes();
                for (int i = 0; i < 4; i++) {
                    KQuantInt8.rows(t, w, t.rowBytes(cols), nb, x, 0, y, 0, 0, rows);
                    KQuantInt8.batch(t, w, t.rowBytes(cols), nb, x, 0, cols, count, y, 0, rows, 0, rows);
                }
                least = Math.min(least, mx.getCurrentThreadAllocatedBytes() - before);
            }
            assertEquals(0, least, t + " " + k + ": bytes allocated by 4 warm rows + batch calls");
        }
    }
}
