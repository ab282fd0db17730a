package io.strata.kernels.decoder;

import io.strata.core.model.ModelFamily;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.core.model.DType;
import io.strata.core.weights.ExpertWeights;
import org.junit.jupiter.api.Test;

class SequenceStateTest {
    @Test
    void failedForwardPoisonsTheSequenceInsteadOfDecodingOverAHalfWrittenCache() {
        RandomMoeModel model = new RandomMoeModel(ModelFamily.MIXTRAL, DType.F32, 1, false);
        boolean[] fail = {false};
        try (MapWeightSource src = model.source()) {
            MapWeightSource flaky = new MapWeightSource(model.config, model.tensors, null) {
                @Override
                public ExpertWeights expert(int layer, int expert) {
                    if (fail[0] && layer == 2) {
                        throw new IllegalStateException("peer went away fetching expert " + layer + "/" + expert);
                    }
                    return super.expert(layer, expert);
                }
            };
            try (Sequence s = new MoeDecoder(flaky).newSequence()) {
                s.forward(1);
                fail[0] = true;
                var e = assertThrows(IllegalStateException.class, () -> s.forward(2));
                assertTrue(e.getMessage().contains("peer went away"));
                assertEquals(0, flaky.pinned);
                fail[0] = false;
                var again = assertThrows(IllegalStateException.class, () -> s.forward(3));
                assertTrue(again.getMessage().contains("earlier forward pass failed"), again.getMessage());
            }
            try (Sequence s = new MoeDecoder(src).newSequence()) {
                assertThrows(IllegalArgumentException.class, () -> s.forward(97));
                assertEquals(0, s.position());
                s.forward(96);
                assertEquals(1, s.position());
                s.close();
                assertThrows(IllegalStateException.class, () -> s.forward(1));
            }
        }
    }
}
