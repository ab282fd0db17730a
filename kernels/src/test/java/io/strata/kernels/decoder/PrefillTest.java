package io.strata.kernels.decoder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.core.model.DType;
import io.strata.core.model.ExpertId;
import io.strata.core.model.ModelFamily;
import io.strata.core.weights.ExpertWeights;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A batched prompt gives the logits and routing of a token-by-token pass bit for bit, whatever the batch size,
 * thread count and KV page size, and reads each routed expert once per batch.
 */
class PrefillTest {
    private static final int[] PROMPT = {5, 17, 3, 96, 41, 0, 63, 63, 12, 88, 7};

    static Stream<Arguments> models() {
        return Stream.of(
                Arguments.of(ModelFamily.MIXTRAL, DType.BF16, true),
                Arguments.of(ModelFamily.MIXTRAL, DType.F32, true),
                Arguments.of(ModelFamily.QWEN3_MOE, DType.F16, true),
                Arguments.of(ModelFamily.QWEN3_MOE, DType.BF16, false));
    }

    @ParameterizedTest(name = "{0} {1} sparse variant {2}")
    @MethodSource("models")
    void batchedPromptEqualsTokenByTokenBitForBit(ModelFamily family, DType dtype, boolean variant) {
        RandomMoeModel model = new RandomMoeModel(family, dtype, 9, variant);
        try (MapWeightSource src = model.source()) {
            DecoderOptions base = DecoderOptions.defaults().withKvPageTokens(3);
            List<ForwardStep> reference = tokenByToken(new MoeDecoder(src, base.withThreads(1)));
            for (int threads : new int[] {1, 3}) {
                for (int batch : new int[] {1, 4, 128}) {
                    MoeDecoder d = new MoeDecoder(src, base.withThreads(threads).withPrefillBatch(batch));
                    try (Sequence s = d.newSequence()) {
                        List<ForwardStep> steps = s.prefillSteps(PROMPT);
                        String where = threads + " threads, batch " + batch;
                        assertSameSteps(reference, steps, where);
                        assertEquals(PROMPT.length, s.position(), where);
                        // decoding continues from the batched prompt's KV cache exactly as from the stepped one
                        assertArrayEquals(next(reference), s.forward(PROMPT[0]), where);
                    }
                    try (Sequence s = d.newSequence()) {
                        assertArrayEquals(reference.get(PROMPT.length - 1).logits(), s.prefill(PROMPT), "last logits, " + batch);
                    }
                }
            }
        }
    }

    private static List<ForwardStep> tokenByToken(MoeDecoder d) {
        List<ForwardStep> steps = new ArrayList<>();
        try (Sequence s = d.newSequence()) {
            for (int t : PROMPT) {
                steps.add(s.step(t));
            }
            steps.add(s.step(PROMPT[0]));
        }
        return steps;
    }

    private static float[] next(List<ForwardStep> reference) {
        return reference.getLast().logits();
    }

    private static void assertSameSteps(List<ForwardStep> reference, List<ForwardStep> steps, String where) {
        assertEquals(PROMPT.length, steps.size(), where);
        for (int p = 0; p < PROMPT.length; p++) {
            ForwardStep want = reference.get(p);
            ForwardStep got = steps.get(p);
            assertEquals(p, got.position(), where);
            assertEquals(PROMPT[p], got.token(), where);
            assertTrue(got.prompt(), where);
            assertArrayEquals(want.logits(), got.logits(), where + ", position " + p);
            for (int l = 0; l < want.routing().layers(); l++) {
                assertArrayEquals(want.routing().experts(l), got.routing().experts(l), where + ", layer " + l);
                assertArrayEquals(want.routing().weights(l), got.routing().weights(l), where + ", layer " + l);
            }
        }
    }

    @Test
    void eachRoutedExpertIsPinnedOncePerBatch() {
        RandomMoeModel model = new RandomMoeModel(ModelFamily.MIXTRAL, DType.BF16, 4, true);
        List<ExpertId> loads = new ArrayList<>();
        try (MapWeightSource src = new MapWeightSource(model.config, model.tensors, null) {
            @Override
            public ExpertWeights expert(int layer, int expert) {
                ExpertWeights w = super.expert(layer, expert);
                loads.add(w.id());
                return w;
            }
        }) {
            try (Sequence s = new MoeDecoder(src, DecoderOptions.defaults()).newSequence()) {
                List<ForwardStep> steps = s.prefillSteps(PROMPT);
                Set<ExpertId> routed = new HashSet<>();
                for (ForwardStep step : steps) {
                    for (int l = 0; l < step.routing().layers(); l++) {
                        for (int e : step.routing().experts(l)) {
                            routed.add(new ExpertId(l, e));
                        }
                    }
                }
                assertEquals(routed, new HashSet<>(loads), "the experts the routing chose");
                assertEquals(routed.size(), loads.size(), "each pinned once for the whole prompt");
                assertEquals(0, src.pinned, "every pin released");
                assertTrue(loads.size() < PROMPT.length * 2 * 3, "fewer pins than token by token");
            }
        }
    }

    @Test
    void rejectsBadTokensBeforeTouchingTheCache() {
        RandomMoeModel model = new RandomMoeModel(ModelFamily.MIXTRAL, DType.F32, 4, true);
        try (MapWeightSource src = model.source(); Sequence s = new MoeDecoder(src).newSequence()) {
            var e = assertThrows(IllegalArgumentException.class, () -> s.prefill(new int[] {1, 2, 97}));
            assertTrue(e.getMessage().contains("97"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> s.prefill(new int[0]));
            assertEquals(0, s.position());
            s.prefill(new int[] {1, 2});
            assertEquals(2, s.position());
        }
    }
}
