package io.strata.tools.commands;

import static io.strata.tools.commands.Cli.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.tools.commands.Cli.Run;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's main command, as a user runs it: builds the model once, then pages it under budgets. */
class DemoCommandTest {
    @TempDir
    Path dir;

    @Test
    void buildsOnceThenRunsWithinEveryBudget() throws java.io.IOException {
        // the demo writes a 455 MiB checkpoint, its converted copy and a disk cache: about 1.2 GB at the peak
        long free = java.nio.file.Files.getFileStore(dir).getUsableSpace();
        org.junit.jupiter.api.Assumptions.assumeTrue(free > (3L << 30),
                "needs 3 GiB free in the temp dir for the demo model, has " + (free >> 20) + " MiB");
        Run first = run("demo", "--dir", dir.toString(), "--tokens", "6");
        assertEquals(0, first.code(), first.err());
        assertTrue(first.out().contains("writing the demo checkpoint"), first.out());
        assertTrue(first.out().contains("token   6/6"), first.out());
        assertTrue(first.out().contains("tokens/s") && first.out().contains("prefetch accuracy"), first.out());
        assertFalse(first.out().contains("OVER BUDGET"), first.out());
        Matcher peaks = Pattern.compile("peak (device|host|disk) .*\\((\\d+\\.\\d) %\\)").matcher(first.out());
        int tiers = 0;
        while (peaks.find()) {
            tiers++;
            assertTrue(Double.parseDouble(peaks.group(2)) <= 100.0, peaks.group());
        }
        assertEquals(3, tiers, "device, host and disk peaks reported: " + first.out());
        assertTrue(first.out().matches("(?s).*host\\s+\\d+\\s+[1-9]\\d*\\s.*"), "host misses: experts were paged");

        Run again = run("demo", "--dir", dir.toString(), "--tokens", "2");
        assertEquals(0, again.code(), again.err());
        assertTrue(again.out().contains("(cached; --fresh rebuilds it)"), again.out());
        assertFalse(again.out().contains("writing the demo checkpoint"), again.out());
        String tokensFirst = first.out().lines().filter(l -> l.startsWith("generated:")).findFirst().orElseThrow();
        String tokensAgain = again.out().lines().filter(l -> l.startsWith("generated:")).findFirst().orElseThrow();
        assertTrue(tokensFirst.startsWith(tokensAgain.substring(0, tokensAgain.length() - 1)),
                "same greedy tokens on the cached model: " + tokensFirst + " / " + tokensAgain);
    }
}
