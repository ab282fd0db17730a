package io.strata.kernels.decoder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.strata.core.model.DType;
import io.strata.core.model.ModelFamily;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The decoder computes a layer's routed experts in the order the source says their bytes arrive
 * ({@code WeightSource.awaitReady}), and the logits are bit-identical to routing order: each expert writes its own
 * slots, which are summed in top-k order afterwards.
 */
class ArrivalOrderTest {
    private static List<float[]> run(MapWeightSource src, int[] tokens) {
        MoeDecoder d = new MoeDecoder(src, DecoderOptions.defaults().withKvPageTokens(2)
                .withSpeculativePrefetch(false));
        List<float[]> out = new ArrayList<>();
        try (Sequence s = d.newSequence()) {
            out.add(s.prefill(new int[]{3, 1, 4, 1, 5})); // a batch: several experts per layer
            for (int t : tokens) {
                out.add(s.forward(t));
            }
        }
        return out;
    }

    @Test
    void expertsAreComputedInArrivalOrderWithIdenticalLogits() {
        RandomMoeModel model = new RandomMoeModel(ModelFamily.MIXTRAL, DType.BF16, 21, true);
        int[] tokens = {4, 8, 15, 16, 23, 42};
        try (MapWeightSource src = model.source()) {
            List<float[]> a = run(src, tokens);
            List<Integer> fixedPins = List.copyOf(src.pinOrder);
            src.pinOrder.clear();
            src.lastArrivesFirst = true;
            List<float[]> b = run(src, tokens);
            MapWeightSource arrival = src;
            record Pins(List<Integer> pinOrder) { }
            Pins fixed = new Pins(fixedPins);
            for (int i = 0; i < a.size(); i++) {
                assertArrayEquals(a.get(i), b.get(i), "step " + i);
            }
            assertEquals(fixed.pinOrder.size(), arrival.pinOrder.size());
            assertNotEquals(fixed.pinOrder, arrival.pinOrder, "the arrival order was followed");
            // each pin is the candidate the source named (the last of those left), not the next in routing order
            List<List<Integer>> f = byLayerVisit(fixed.pinOrder);
            List<List<Integer>> r = byLayerVisit(arrival.pinOrder);
            assertEquals(f.size(), r.size());
            for (int i = 0; i < f.size(); i++) {
                List<Integer> order = new ArrayList<>(f.get(i)); // routing order
                int n = order.size();
                for (int u = 0; u < n; u++) { // the decoder swaps the named one (the last) into place u
                    java.util.Collections.swap(order, u, n - 1);
                }
                List<Integer> expected = order;
                assertEquals(expected, r.get(i), "layer visit " + i);
            }
            assertEquals(0, arrival.pinned, "every handle closed");
        }
    }

    /** Consecutive pins of the same layer form one visit. */
    private static List<List<Integer>> byLayerVisit(List<Integer> pins) {
        List<List<Integer>> out = new ArrayList<>();
        int layer = -1;
        for (int p : pins) {
            if (p / 1000 != layer) {
                layer = p / 1000;
                out.add(new ArrayList<>());
            }
            out.getLast().add(p);
        }
        return out;
    }
}
