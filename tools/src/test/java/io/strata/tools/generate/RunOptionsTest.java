package io.strata.tools.generate;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class RunOptionsTest {
    @CommandLine.Command(name = "t")
    static final class Holder {
        @CommandLine.Mixin
        RunOptions run = new RunOptions();
    }

    private static RunOptions parse(String... args) {
        Holder h = new Holder();
        new CommandLine(h).parseArgs(args);
        return h.run;
    }

    @Test
    void frequencyPrefetchIsOffByDefaultAndTheFlagTurnsItOn() {
        assertFalse(parse().runtime().frequencyPrefetch());
        assertTrue(parse("--frequency-prefetch").runtime().frequencyPrefetch());
        assertFalse(parse("--frequency-prefetch").runtime().frequencyPrefetch() == parse().runtime().frequencyPrefetch());
    }
}
