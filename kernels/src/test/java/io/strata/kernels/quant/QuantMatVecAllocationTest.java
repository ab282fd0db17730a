package io.strata.kernels.quant;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.strata.core.model.DType;
import io.strata.kernels.cpu.CpuKernels;
import io.strata.kernels.cpu.NativeQuant;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The rewritten kernels keep their vectors in registers once compiled: a kernel whose vectors C2 boxes (a helper
 * taking a vector not inlined, or the kernel inlined past C2's budget into a bigger loop) allocates about 100 B
 * per row and runs 10-30x slower. Many rows in one call, as a threaded decode makes them. Allocation is measured
 * over windows and the least is asserted, so windows in which C2 has not yet installed (or recompiles) a kernel
 * and C1 code boxes for a while cannot fail the test; a kernel that boxes in its compiled form fails every window.
 * It runs in a JVM of its own (kernels/pom.xml): after the rest of the kernels suite has run in the same JVM, the
 * compiled Q5_K (once Q6_K) kernel was seen to allocate 11-21 MB per call for 30 s, i.e. C2 compiled it boxing —
 * a known weakness of these hand-unrolled kernels in a JVM that has run every type on many shapes, not yet fixed;
 * the native twins' calls in the same JVM did it too, so each kernel choice gets a JVM of its own.
 */
class QuantMatVecAllocationTest {
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"Q8_0", "Q4_0", "Q4_K", "Q5_K", "Q6_K"})
    void compiledKernelsDoNotAllocatePerRow(DType t) {
        // the kernel this JVM was started with (kernels/pom.xml runs the class once with -Dstrata.kernels=java
        // and once with native): the Java kernels, or their native twins (NativeQuant) where available
        if (CpuKernels.active() == CpuKernels.NATIVE) {
            assumeTrue(NativeQuant.unavailable() == null, "native quantised kernels unavailable: "
                    + NativeQuant.unavailable());
        }
        noAllocationPerRow(t);
    }

    private static void noAllocationPerRow(DType t) {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        int rows = 8192;
        int cols = 1024;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment w = QuantMatVecTest.randomBlocks(arena, t, rows, cols, new Random(7));
            float[] x = new float[cols];
            Random rnd = new Random(8);
            for (int i = 0; i < cols; i++) {
                x[i] = rnd.nextFloat() - 0.5f;
            }
            float[] y = new float[rows];
            // warm-up by invocations, as a decode calls the kernel (thousands of calls of a few hundred rows):
            // past Tier4InvocationThreshold (5000) C2 compiles the kernel as a whole method. A warm-up of a few
            // hundred 8192-row calls left the kernel to on-stack-replacement alone, whose compiled form depends on
            // which loop's back-edge counter overflowed first and was seen (once, in CI) to box Q5_K and Q6_K.
            for (int i = 0; i < 6000; i++) {
                int from = (i * 64) % rows;
                QuantMatVec.matvec(t, w, rows, cols, x, 0, y, 0, from, from + 64);
            }
            // windows until one is clean or 30 s have passed: in a full suite C2's queue is long, and until the
            // kernel's C2 code is installed the C1 code boxes (megabytes per call); compiled code that boxes
            // stays dirty in every window and fails at the deadline
            long least = Long.MAX_VALUE;
            long deadline = System.nanoTime() + 30_000_000_000L;
            for (int window = 0; window < 8 || (least >= rows / 2 && System.nanoTime() < deadline); window++) {
                long before = mx.getCurrentThreadAllocatedBytes();
                for (int i = 0; i < 4; i++) {
                    QuantMatVec.matvec(t, w, rows, cols, x, 0, y, 0, 0, rows);
                }
                least = Math.min(least, (mx.getCurrentThreadAllocatedBytes() - before) / 4);
            }
            // per call: the scratch arrays (group sums, lanes, group scales), well under one byte per row
            assertTrue(least < rows / 2, t + " (" + CpuKernels.active() + "): a call over " + rows + " rows allocated " + least + " bytes");
        }
    }
}
