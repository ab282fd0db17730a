package io.strata.tools.commands;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.strata.kernels.cuda.CudaDriver;
import io.strata.tools.StrataCli;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class BenchCudaCommandTest {

    private record Run(int exit, String out, String err) {
    }

    private static Run run(String... args) {
        CommandLine cl = StrataCli.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int exit = cl.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void withoutAGpuItSaysWhyAndSucceeds() {
        assumeFalse(CudaDriver.load().isPresent(), "a GPU is present: the benchmark would really run");
        Run r = run("bench", "cuda");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().startsWith("No GPU found: " + CudaDriver.LIBRARY + ": "), r.out());
        assertTrue(r.out().contains(CudaDriver.availability().reason()), r.out());
    }

    @Test
    void aWeightTypeTheKernelsLackIsAUsageError() {
        Run r = run("bench", "cuda", "--dtype", "I8");
        assertEquals(2, r.exit(), r.out());
        assertTrue(r.err().contains("--dtype must be F32 or BF16"), r.err());
    }

    @Test
    void benchListsItsBenchmarks() {
        Run r = run("bench", "--help");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("cuda"), r.out());
    }
}
