package io.strata.tools.commands;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.tools.StrataCli;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Argument checking of {@code strata bench-hash}; the benchmark itself is run by hand (it forks JMH JVMs). */
class BenchHashCommandTest {

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
    void aSizeOutOfRangeIsRejectedBeforeAnythingRuns() {
        Run r = run("bench-hash", "--sizes", "1MiB,3GiB");
        assertEquals(1, r.exit(), r.err());
        assertTrue(r.err().contains("--sizes: 3GiB must be between 1 byte and 2GiB"), r.err());
    }

    @Test
    void helpDescribesTheComparison() {
        Run r = run("bench-hash", "--help");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("Bouncy Castle"), r.out());
        assertTrue(r.out().contains("--threads"), r.out());
    }
}
