package io.strata.tools.commands;

import static io.strata.tools.commands.Cli.run;

import io.strata.tools.commands.Cli.Run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.strata.nativeaccess.cuda.CudaDriver;
import org.junit.jupiter.api.Test;

class BenchCudaCommandTest {

    @Test
    void withoutAGpuItSaysWhyAndSucceeds() {
        assumeFalse(CudaDriver.load().isPresent(), "a GPU is present: the benchmark would really run");
        Run r = run("bench", "cuda");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("No GPU found: " + CudaDriver.LIBRARY + ": "), r.out());
        assertTrue(r.out().contains(CudaDriver.availability().reason()), r.out());
    }

    @Test
    void aWeightTypeTheKernelsLackIsAUsageError() {
        Run r = run("bench", "cuda", "--dtype", "I8");
        assertEquals(2, r.code(), r.out());
        assertTrue(r.err().contains("--dtype must be F32 or BF16"), r.err());
    }

    @Test
    void benchListsItsBenchmarks() {
        Run r = run("bench", "--help");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("cuda"), r.out());
    }
}
