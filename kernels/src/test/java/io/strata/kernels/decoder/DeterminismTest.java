package io.strata.kernels.decoder;

import io.strata.core.model.ModelFamily;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.strata.core.model.DType;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The same forward pass gives the same bits before and after the JIT has compiled the kernels (bit-exact
 * comparisons between KV cache implementations, spills and runs depend on it).
 */
class DeterminismTest {
    private static List<float[]> run(MoeDecoder d) {
        List<float[]> out = new ArrayList<>();
        try (Sequence s = d.newSequence()) {
            for (int t : new int[] {4, 8, 15, 16, 23, 42}) {
                out.add(s.forward(t));
            }
        }
        return out;
    }

    @Test
    void logitsAreIdenticalColdAndWarm() {
        RandomMoeModel model = new RandomMoeModel(ModelFamily.QWEN3_MOE, DType.BF16, 21, true);
        try (MapWeightSource src = model.source()) {
            MoeDecoder d = new MoeDecoder(src, DecoderOptions.defaults().withKvPageTokens(2));
            List<float[]> cold = run(d);
            for (int i = 0; i < 100; i++) {
                run(d);
            }
            List<float[]> warm = run(d);
            for (int i = 0; i < cold.size(); i++) {
                assertArrayEquals(cold.get(i), warm.get(i), "position " + i);
            }
        }
    }
}
