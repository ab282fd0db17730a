package io.strata.kernels.decoder;

import io.strata.core.model.ModelFamily;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.strata.core.model.DType;
import io.strata.core.weights.WeightSource;
import java.util.List;
import org.junit.jupiter.api.Test;

class SyntheticMoeModelTest {
    @Test
    void mixtralLikeShapeParsesAsMixtralConfig() {
        var s = SyntheticMoeModel.Shape.mixtralLike(DType.BF16, 4096, 32);
        assertEquals(32, s.heads());
        assertEquals(8, s.kvHeads());
        assertEquals(128, s.headDim());
        assertEquals(14336, s.expertIntermediateSize());
    }

    @Test
    void ownSourceDecodesLikeThePinCountingTestSource() {
        var shape = new SyntheticMoeModel.Shape(ModelFamily.QWEN3_MOE, DType.BF16, 50, 32, 2, 2, 1, 16, 4, 2, 24,
                40, true, 1, List.of(0), true);
        try (SyntheticMoeModel m = SyntheticMoeModel.generate(shape, 3)) {
            ModelConfig cfg = ModelConfig.parse(m.config());
            assertEquals(false, cfg.isSparse(0));
            assertEquals(true, cfg.isSparse(1));
            WeightSource own = m.source();
            MapWeightSource counted = new MapWeightSource(m.config(), m.tensors(), null);
            List<Integer> prompt = List.of(1, 2, 3);
            List<Integer> a = new MoeDecoder(own).generate(prompt, 4, Sampler.greedy(), StepListener.NONE);
            // token by token, so that every forward pins its own two experts
            List<Integer> b = new MoeDecoder(counted, DecoderOptions.defaults().withPrefillBatch(1))
                    .generate(prompt, 4, Sampler.greedy(), StepListener.NONE);
            assertEquals(b, a);
            assertEquals(4 + 2, counted.expertLoads / 2, "one sparse layer, top-2, six forwards");
            assertThrows(IllegalArgumentException.class, () -> own.dense("nope"));
            try (Sequence s1 = new MoeDecoder(own).newSequence(); Sequence s2 = new MoeDecoder(counted).newSequence()) {
                assertArrayEquals(s2.forward(7), s1.forward(7));
            }
        }
    }
}
