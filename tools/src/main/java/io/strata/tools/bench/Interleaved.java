package io.strata.tools.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The benchmark discipline this project asks for on a machine whose CPU share swings from minute to minute:
 * candidates measured in the same process, interleaved round by round (A, B, C, A, B, C, ...) so that a slow
 * minute hits all of them, each measurement repeated until it has run for at least a minimum time, and the
 * result reported as the median with the spread (min..max) over rounds, never one number.
 */
public final class Interleaved {
    /** One candidate: runs once and returns the bytes (or items) it processed. */
    public record Candidate(String name, LongSupplier once) {
    }

    /** Throughput per round (units per second) of one candidate. */
    public record Result(String name, double[] perRound) {
        public double median() {
            double[] s = perRound.clone();
            Arrays.sort(s);
            int n = s.length;
            return n == 0 ? Double.NaN : n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
        }

        public double min() {
            return Arrays.stream(perRound).min().orElse(Double.NaN);
        }

        public double max() {
            return Arrays.stream(perRound).max().orElse(Double.NaN);
        }
    }

    private Interleaved() {
    }

    /**
     * Runs {@code warmupRounds} unrecorded rounds, then {@code rounds} recorded ones; in each round every candidate
     * runs repeatedly for at least {@code minNanos}.
     */
    public static Map<String, Result> run(List<Candidate> candidates, int warmupRounds, int rounds, long minNanos) {
        Map<String, List<Double>> samples = new LinkedHashMap<>();
        candidates.forEach(c -> samples.put(c.name(), new ArrayList<>()));
        for (int r = 0; r < warmupRounds + rounds; r++) {
            for (Candidate c : candidates) {
                long units = 0;
                long t0 = System.nanoTime();
                long elapsed;
                do {
                    units += c.once().getAsLong();
                    elapsed = System.nanoTime() - t0;
                } while (elapsed < minNanos);
                if (r >= warmupRounds) {
                    samples.get(c.name()).add(units / (elapsed / 1e9));
                }
            }
        }
        Map<String, Result> out = new LinkedHashMap<>();
        samples.forEach((k, v) -> out.put(k, new Result(k, v.stream().mapToDouble(Double::doubleValue).toArray())));
        return out;
    }
}
