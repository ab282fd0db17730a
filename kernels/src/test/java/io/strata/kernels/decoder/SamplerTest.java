package io.strata.kernels.decoder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SamplerTest {
    @Test
    void greedyTakesFirstMaximum() {
        assertEquals(1, Sampler.greedy().sample(new float[] {0f, 3f, 3f, -1f}));
        assertEquals(0, Sampler.temperature(0, 1, 1).sample(new float[] {5f, 3f}));
    }

    @Test
    void temperatureSamplingFollowsSoftmaxAndIsReproducible() {
        float[] logits = {0f, (float) Math.log(3)};
        Sampler a = Sampler.temperature(1.0, 1.0, 42);
        Sampler b = Sampler.temperature(1.0, 1.0, 42);
        int ones = 0;
        int n = 4000;
        for (int i = 0; i < n; i++) {
            int x = a.sample(logits);
            assertEquals(x, b.sample(logits), "same seed, same draw");
            ones += x;
        }
        assertEquals(0.75, ones / (double) n, 0.03);
    }

    @Test
    void topPDropsTheTail() {
        float[] logits = {(float) Math.log(0.5), (float) Math.log(0.3), (float) Math.log(0.2)};
        Sampler s = Sampler.temperature(1.0, 0.7, 7);
        int[] counts = new int[3];
        for (int i = 0; i < 2000; i++) {
            counts[s.sample(logits)]++;
        }
        assertEquals(0, counts[2]);
        assertTrue(counts[1] > 600 && counts[1] < 900, "0.3/0.8 of draws: " + counts[1]);
    }
}
