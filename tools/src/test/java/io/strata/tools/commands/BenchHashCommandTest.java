package io.strata.tools.commands;

import static io.strata.tools.commands.Cli.run;

import io.strata.tools.commands.Cli.Run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Argument checking of {@code strata bench hash}; the benchmark itself is run by hand (it forks JMH JVMs). */
class BenchHashCommandTest {

    @Test
    void aSizeOutOfRangeIsRejectedBeforeAnythingRuns() {
        Run r = run("bench", "hash", "--sizes", "1MiB,3GiB");
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("--sizes: 3GiB must be between 1 byte and 2GiB"), r.err());
    }

    @Test
    void helpDescribesTheComparison() {
        Run r = run("bench", "hash", "--help");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("Bouncy Castle"), r.out());
        assertTrue(r.out().contains("--threads"), r.out());
    }
}
