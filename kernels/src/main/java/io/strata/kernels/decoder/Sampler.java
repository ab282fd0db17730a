package io.strata.kernels.decoder;

import java.util.Arrays;
import java.util.SplittableRandom;

/** Picks the next token from logits. */
@FunctionalInterface
public interface Sampler {
    int sample(float[] logits);

    /** Argmax; ties go to the lowest token id (as torch.argmax). */
    static Sampler greedy() {
        return logits -> {
            int best = 0;
            for (int i = 1; i < logits.length; i++) {
                if (logits[i] > logits[best]) {
                    best = i;
                }
            }
            return best;
        };
    }

    /**
     * Temperature then nucleus (top-p) sampling, reproducible for a given seed. temperature <= 0 means greedy;
     * topP >= 1 keeps every token.
     */
    static Sampler temperature(double temperature, double topP, long seed) {
        if (temperature <= 0) {
            return greedy();
        }
        if (!(topP > 0)) {
            throw new IllegalArgumentException("top-p must be in (0, 1], got " + topP);
        }
        SplittableRandom random = new SplittableRandom(seed);
        return logits -> {
            int n = logits.length;
            double max = Double.NEGATIVE_INFINITY;
            for (float l : logits) {
                max = Math.max(max, l);
            }
            double[] p = new double[n];
            double sum = 0;
            for (int i = 0; i < n; i++) {
                p[i] = Math.exp((logits[i] - max) / temperature);
                sum += p[i];
            }
            Integer[] order = new Integer[n];
            for (int i = 0; i < n; i++) {
                order[i] = i;
                p[i] /= sum;
            }
            Arrays.sort(order, (a, b) -> p[a] != p[b] ? Double.compare(p[b], p[a]) : Integer.compare(a, b));
            int keep = 0;
            double mass = 0;
            while (keep < n && (keep == 0 || mass < topP)) {
                mass += p[order[keep++]];
            }
            double r = random.nextDouble() * mass;
            for (int j = 0; j < keep; j++) {
                r -= p[order[j]];
                if (r < 0) {
                    return order[j];
                }
            }
            return order[keep - 1];
        };
    }
}
