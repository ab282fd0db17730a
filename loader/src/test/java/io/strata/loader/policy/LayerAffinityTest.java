package io.strata.loader.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.function.IntUnaryOperator;
import org.junit.jupiter.api.Test;

class LayerAffinityTest {
    /**
     * Routes {@code tokens} tokens through {@code layers} layers, one expert each: layer 0 picks at random,
     * every later layer picks {@code follow(choice at layer 0)}; stops in layer 0 of one more token, as when the
     * policy chooses a victim while that layer is routed.
     */
    private static RoutingHistory route(LayerAffinity a, int tokens, int layers, int experts,
                                        IntUnaryOperator follow, Random rnd) {
        RoutingHistory h = new RoutingHistory();
        for (int t = 0; t <= tokens; t++) {
            int first = rnd.nextInt(experts);
            for (int l = 0; l < layers && (t < tokens || l == 0); l++) {
                if (h.current() >= 0) {
                    int ended = h.current();
                    h.close(ended);
                    a.learn(h, ended, h.layer(ended).lastSet);
                }
                h.enter(l);
                h.chose(l == 0 ? first : follow.applyAsInt(first));
            }
        }
        a.snapshot(h);
        return h;
    }

    @Test
    void aTokensEarlierChoicesLiftTheExpertsItsLaterLayersWillPick() {
        LayerAffinity a = new LayerAffinity();
        RoutingHistory h = route(a, 400, 4, 8, e -> (e + 3) % 8, new Random(1));
        int chosen = h.choicesNow(0)[0];
        for (int layer = 1; layer < 4; layer++) {
            double right = a.lift(h, layer, (chosen + 3) % 8, layer);
            double wrong = a.lift(h, layer, (chosen + 4) % 8, layer);
            assertTrue(right > 2, "layer " + layer + ": the expert that always follows, lift " + right);
            assertTrue(wrong < 0.5, "layer " + layer + ": one that never follows, lift " + wrong);
        }
    }

    @Test
    void independentRoutingLiftsNothing() {
        LayerAffinity a = new LayerAffinity();
        Random rnd = new Random(2);
        RoutingHistory h = route(a, 2000, 4, 8, e -> rnd.nextInt(8), new Random(3));
        for (int e = 0; e < 8; e++) {
            double lift = a.lift(h, 2, e, 2);
            assertTrue(lift > 0.7 && lift < 1.4, "expert " + e + ": lift " + lift);
        }
    }

    @Test
    void memoryStaysBoundedForLargeModels() {
        // 94 layers x 128 experts (Qwen3-235B's shape): the full table would be 2^28 cells
        LayerAffinity a = new LayerAffinity();
        route(a, 3, 94, 128, e -> (e * 7) % 128, new Random(4));
        assertTrue(a.cells() <= LayerAffinity.MAX_CELLS + (1 << 20), "cells " + a.cells());
        assertTrue(a.buckets() < 128, "source experts folded into buckets: " + a.buckets());
        // ids too large for any table: no lift, no failure
        LayerAffinity huge = new LayerAffinity();
        RoutingHistory h = route(huge, 3, 3000, 4, e -> e, new Random(5));
        assertEquals(1.0, huge.lift(h, 5, 1, 5));
    }
}
