package io.strata.tools.commands;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.tools.StrataCli;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class BenchQuantCommandTest {
    @Test
    void reportsEveryTypeAgainstTheReadOnEachThreadCount() {
        CommandLine cl = StrataCli.commandLine();
        StringWriter out = new StringWriter();
        cl.setOut(new PrintWriter(out));
        int rc = cl.execute("bench", "quant", "--size", "2MiB", "--cols", "512", "--types", "Q4_K,Q8_0,BF16",
                "--rounds", "2", "--passes", "1");
        String text = out.toString();
        assertEquals(0, rc, text);
        for (String t : new String[]{"Q4_K", "Q8_0", "BF16"}) {
            // type, bits, then per thread count: matvec GB/s, read GB/s, ratio (min-max)
            assertEquals(1, text.lines().filter(l -> l.matches(t + " +[0-9.]+( \\| +[0-9.]+ +[0-9.]+ +[0-9.]+ "
                    + "\\([0-9.]+-[0-9.]+\\)){2}")).count(), text);
        }
        assertTrue(text.contains("load average"), text);
    }

    @Test
    void badOptionsAreUsageErrors() {
        CommandLine cl = StrataCli.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        assertEquals(2, cl.execute("bench", "quant", "--types", "Q9_9"));
        assertTrue(err.toString().contains("--types: unknown type 'Q9_9'"), err.toString());
        assertEquals(2, cl.execute("bench", "quant", "--cols", "300"));
        assertTrue(err.toString().contains("--cols 300 must be a positive multiple of 256"), err.toString());
    }
}
