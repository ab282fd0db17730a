package io.strata.kernels.decoder;

import io.strata.core.model.ModelFamily;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.strata.core.model.DType;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The decoder (vector kernels, paged KV cache) against the independent full-recompute reference on random models. */
class GeneratedModelTest {
    private static final List<Integer> PROMPT = List.of(3, 41, 96, 7, 0, 58);
    private static final int NEW = 5;

    static Stream<Arguments> models() {
        return Stream.of(
                Arguments.of(ModelFamily.MIXTRAL, DType.F32, false),
                Arguments.of(ModelFamily.MIXTRAL, DType.BF16, false),
                Arguments.of(ModelFamily.QWEN3_MOE, DType.F32, false),
                Arguments.of(ModelFamily.QWEN3_MOE, DType.BF16, true));
    }

    @ParameterizedTest(name = "{0} {1} variant={2}")
    @MethodSource("models")
    void decoderMatchesReferenceForwardPass(ModelFamily arch, DType dtype, boolean variant) {
        RandomMoeModel model = new RandomMoeModel(arch, dtype, 42 + dtype.ordinal() + arch.ordinal() * 10L, variant);
        try (MapWeightSource src = model.source()) {
            ReferenceMoe ref = new ReferenceMoe(model.config, model.tensors);
            MoeDecoder decoder = new MoeDecoder(src, DecoderOptions.defaults().withKvPageTokens(4));
            List<float[]> logits = new ArrayList<>();
            List<Routing> routing = new ArrayList<>();
            List<Integer> tokens;
            try (Sequence s = decoder.newSequence()) {
                tokens = s.generate(PROMPT, NEW, Sampler.greedy(), Set.of(), step -> {
                    routing.add(step.routing());
                    if (step.sampled() >= 0) {
                        logits.add(step.logits());
                    }
                });
            }
            assertEquals(NEW, tokens.size());
            List<Integer> seq = new ArrayList<>(PROMPT);
            for (int i = 0; i < NEW; i++) {
                float[] want = ref.logits(seq);
                float max = 0;
                int argmax = 0;
                for (int j = 0; j < want.length; j++) {
                    max = Math.max(max, Math.abs(want[j]));
                    argmax = want[j] > want[argmax] ? j : argmax;
                }
                assertEquals(argmax, tokens.get(i), "greedy token at step " + i);
                for (int j = 0; j < want.length; j++) {
                    assertEquals(want[j], logits.get(i)[j], 1e-3f * max, "step " + i + " logit " + j);
                }
                seq.add(tokens.get(i));
            }
            // The last reference pass routed every position the decoder fed.
            for (int p = 0; p < routing.size(); p++) {
                for (int l = 0; l < 3; l++) {
                    if (ref.routing[p][l] == null) {
                        assertNull(routing.get(p).experts(l));
                    } else {
                        assertArrayEquals(ref.routing[p][l], routing.get(p).experts(l), "position " + p + " layer " + l);
                    }
                }
            }
            assertEquals(0, src.pinned);
        }
    }

    @Test
    void scalarAndVectorKernelsGiveSameTokensAndCloseLogits() {
        RandomMoeModel model = new RandomMoeModel(ModelFamily.QWEN3_MOE, DType.BF16, 5, false);
        try (MapWeightSource src = model.source()) {
            List<float[]> a = new ArrayList<>();
            List<float[]> b = new ArrayList<>();
            List<Integer> ta = new MoeDecoder(src, DecoderOptions.defaults()).generate(PROMPT, NEW, Sampler.greedy(),
                    s -> a.add(s.logits()));
            List<Integer> tb = new MoeDecoder(src, DecoderOptions.defaults().withVectorKernels(false))
                    .generate(PROMPT, NEW, Sampler.greedy(), s -> b.add(s.logits()));
            assertEquals(ta, tb);
            for (int i = 0; i < a.size(); i++) {
                assertArrayEquals(b.get(i), a.get(i), 1e-4f);
            }
        }
    }
}
