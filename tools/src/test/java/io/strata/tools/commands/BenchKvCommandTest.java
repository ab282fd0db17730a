package io.strata.tools.commands;

import io.strata.testdata.TestData;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.tools.StrataCli;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class BenchKvCommandTest {
    @Test
    void reportsEveryCodecAgainstTheCopyAndTheStoreTelemetry() {
        Path fixture = TestData.dir("fixtures/tiny-mixtral-f32");
        CommandLine cl = StrataCli.commandLine();
        StringWriter out = new StringWriter();
        cl.setOut(new PrintWriter(out));
        int rc = cl.execute("bench", "kv", "--model", fixture.toString(), "--positions", "40", "--page-tokens", "8",
                "--min-bytes", "64KiB", "--rounds", "1");
        String text = out.toString();
        assertEquals(0, rc, text);
        for (String dtype : new String[]{"f32", "bf16", "f16"}) {
            assertEquals(1, text.lines().filter(l -> l.matches(dtype + " +copy .*")).count(), text);
            assertEquals(6, text.lines().filter(l -> l.startsWith(dtype + " ")).count(), text);
        }
        assertTrue(text.contains("split4") && text.contains("split2"), text);
        assertTrue(text.lines().filter(l -> l.startsWith("store ")).count() == 4, text);
    }
}
