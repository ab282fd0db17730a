package io.strata.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.Test;

class ComputePeakTest {
    @Test
    void fmaCountsTwelveVectorsOfMultiplyAddsPerIteration() {
        int lanes = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length();
        assertEquals(1000L * 12 * lanes, ComputePeak.javaFma(1000));
        // the C loop is AVX-512 (16 lanes) where the library and the CPU have it, else the Java loop answers
        long done = ComputePeak.run(ComputePeak.Kind.FMA, 1000);
        assertTrue(done == 1000L * 12 * 16 || done == 1000L * 12 * lanes, "multiply-adds: " + done);
        assertTrue(ComputePeak.unavailable(ComputePeak.Kind.FMA).isEmpty());
    }

    @Test
    void int8CountsSixtyFourProductsPerInstructionOrSaysWhyNot() {
        if (ComputePeak.unavailable(ComputePeak.Kind.INT8).isPresent()) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> ComputePeak.run(ComputePeak.Kind.INT8, 10));
            assertTrue(e.getMessage().contains(ComputePeak.unavailable(ComputePeak.Kind.INT8).get()), e.getMessage());
            assumeTrue(false, "int8 peak unavailable: " + ComputePeak.unavailable(ComputePeak.Kind.INT8).get());
        }
        assertEquals(1000L * 12 * 64, ComputePeak.run(ComputePeak.Kind.INT8, 1000));
        assertEquals(0L, ComputePeak.run(ComputePeak.Kind.INT8, 0));
    }

    @Test
    void negativeIterationsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> ComputePeak.run(ComputePeak.Kind.FMA, -1));
    }
}
