package io.strata.kernels.decoder;

import io.strata.testdata.TestData;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.strata.storage.safetensors.Checkpoint;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The decoder against the independent PyTorch forward pass recorded in tiny-mixtral-f32/reference.json. */
class TinyMixtralFidelityTest {
    private static Checkpoint ckpt;
    private static JsonNode ref;
    private static List<Integer> prompt;
    private static List<Integer> generated;

    @BeforeAll
    static void open() throws IOException {
        Path dir = TestData.dir("fixtures/tiny-mixtral-f32");
        ckpt = Checkpoint.open(dir);
        ref = new ObjectMapper().readTree(dir.resolve("reference.json").toFile());
        prompt = ints(ref.get("prompt"));
        generated = ints(ref.get("generated"));
    }

    @AfterAll
    static void close() {
        ckpt.close();
    }

    private static List<Integer> ints(JsonNode a) {
        List<Integer> l = new ArrayList<>();
        a.forEach(n -> l.add(n.asInt()));
        return l;
    }

    private record Run(List<Integer> tokens, List<float[]> logits, List<Routing> routing) {
    }

    private static Run run(MapWeightSource src, DecoderOptions options) {
        MoeDecoder d = new MoeDecoder(src, options);
        List<float[]> logits = new ArrayList<>();
        List<Routing> routing = new ArrayList<>();
        List<Integer> out;
        try (Sequence s = d.newSequence()) {
            out = s.generate(prompt, generated.size(), Sampler.greedy(), java.util.Set.of(), step -> {
                routing.add(step.routing());
                if (step.sampled() >= 0) {
                    logits.add(step.logits());
                }
            });
        }
        assertEquals(0, src.pinned, "every expert handle closed");
        return new Run(out, logits, routing);
    }

    private static void assertMatchesReference(Run r) {
        assertEquals(generated, r.tokens());
        JsonNode steps = ref.get("steps");
        assertEquals(steps.size(), r.logits().size());
        for (int i = 0; i < steps.size(); i++) {
            JsonNode want = steps.get(i).get("logits");
            float[] got = r.logits().get(i);
            assertEquals(want.size(), got.length);
            double max = 0;
            for (JsonNode n : want) {
                max = Math.max(max, Math.abs(n.asDouble()));
            }
            for (int j = 0; j < got.length; j++) {
                assertEquals(want.get(j).asDouble(), got[j], 1e-3 * max, "step " + i + " logit " + j);
            }
            assertEquals(steps.get(i).get("next").asInt(), r.tokens().get(i));
        }
    }

    @Test
    void vectorKernelsReproduceReferenceTokensAndLogits() {
        try (MapWeightSource src = MapWeightSource.rows(ckpt)) {
            assertMatchesReference(run(src, DecoderOptions.defaults().withKvPageTokens(3)));
        }
    }

    @Test
    void scalarKernelsReproduceReferenceTokensAndLogits() {
        try (MapWeightSource src = MapWeightSource.rows(ckpt)) {
            assertMatchesReference(run(src, DecoderOptions.defaults().withVectorKernels(false)));
        }
    }

    /** The reference's trace lists, per (step, layer, token), the experts in torch.topk order. */
    @Test
    void routingMatchesReferenceTrace() {
        Run r;
        try (MapWeightSource src = MapWeightSource.rows(ckpt)) {
            r = run(src, DecoderOptions.defaults());
        }
        int checked = 0;
        for (JsonNode e : ref.get("trace")) {
            int step = e.get("step").asInt();
            int token = e.get("token").asInt();
            // Step s recomputes positions 0..prompt+s-1; with a KV cache each position is routed once, and causal
            // attention makes every step's record for that position the same decision.
            Routing routing = r.routing().get(token);
            assertEquals(token, routing.position());
            int[] want = ints(e.get("experts")).stream().mapToInt(Integer::intValue).toArray();
            assertArrayEquals(want, routing.experts(e.get("layer").asInt()),
                    "step " + step + " layer " + e.get("layer") + " token " + token);
            checked++;
        }
        assertTrue(checked >= prompt.size() * 2, "trace covers the prompt");
    }

    @Test
    void columnLayoutGivesSameTokensAndNearlySameLogits() {
        Run row;
        Run col;
        try (MapWeightSource src = MapWeightSource.rows(ckpt)) {
            row = run(src, DecoderOptions.defaults());
            try (MapWeightSource t = MapWeightSource.columns(ckpt.config(), src.tensors())) {
                col = run(t, DecoderOptions.defaults());
            }
        }
        assertEquals(row.tokens(), col.tokens());
        for (int i = 0; i < row.logits().size(); i++) {
            float[] a = row.logits().get(i);
            float[] b = col.logits().get(i);
            for (int j = 0; j < a.length; j++) {
                assertEquals(a[j], b[j], 1e-4f * (1 + Math.abs(a[j])), "step " + i + " logit " + j);
            }
        }
    }

    @Test
    void speculativePrefetchHintsNextLayerAndObservesEveryLayer() {
        try (MapWeightSource src = MapWeightSource.rows(ckpt)) {
            // token by token: speculative hints are made per decode step (a batched prompt hints whole layers)
            run(src, DecoderOptions.defaults().withPrefillBatch(1));
            int forwards = prompt.size() + generated.size() - 1;
            assertEquals(forwards * 2, src.observed.size());
            // Only layer 1 can be predicted (from layer 0); one hint per forward pass, top-2 wide.
            assertEquals(forwards, src.prefetched.size());
            for (int f = 0; f < forwards; f++) {
                int[] hint = src.prefetched.get(f);
                assertEquals(1, hint[0], "hint targets the next layer");
                assertEquals(3, hint.length, "top-2 wide");
                assertTrue(hint[1] != hint[2] && hint[1] < 4 && hint[2] < 4);
            }
        }
        try (MapWeightSource src = MapWeightSource.rows(ckpt)) {
            run(src, DecoderOptions.defaults().withSpeculativePrefetch(false));
            assertTrue(src.prefetched.isEmpty());
        }
    }
}
