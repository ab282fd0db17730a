package io.strata.tools.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.core.manifest.Manifest;
import io.strata.core.manifest.ManifestCodec;
import io.strata.core.model.DType;
import io.strata.core.model.Layout;
import io.strata.core.model.ModelFamily;
import io.strata.core.model.Tier;
import io.strata.kernels.decoder.DecoderOptions;
import io.strata.kernels.decoder.MoeDecoder;
import io.strata.kernels.decoder.Sampler;
import io.strata.kernels.decoder.Sequence;
import io.strata.kernels.decoder.StepListener;
import io.strata.loader.runtime.RuntimeOptions;
import io.strata.storage.safetensors.CheckpointWeights;
import io.strata.storage.convert.ConvertOptions;
import io.strata.storage.convert.ProgressListener;
import io.strata.storage.convert.ShardConverter;
import io.strata.storage.synth.SyntheticCheckpoint;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The whole path — checkpoint, shard-convert (row or column layout), the paging runtime under a budget that
 * evicts every layer, the vector decoder — against the scalar decoder reading the original checkpoint directly.
 */
class PagedDecodeFidelityTest {
    @TempDir
    Path tmp;

    @ParameterizedTest
    @CsvSource({"MIXTRAL, BF16, ROW", "QWEN3_MOE, BF16, COLUMN", "QWEN3_MOE, F16, ROW", "MIXTRAL, F32, COLUMN"})
    void pagedVectorDecodeMatchesTheScalarReference(ModelFamily family, DType dtype, Layout layout) throws Exception {
        Path src = tmp.resolve("src");
        SyntheticCheckpoint.builder().family(family).dtype(dtype).hidden(64).intermediate(96).layers(3).heads(4)
                .kvHeads(2).headDim(16).experts(6).topK(2).vocab(200).shards(2).routerSkew(0.3).seed(11).write(src);
        Path model = tmp.resolve("model");
        ShardConverter.convert(src, model, ConvertOptions.defaults().withLayout(layout, 1), new ProgressListener() { });
        List<Integer> prompt = List.of(3, 141, 59, 26);
        int steps = 10;

        List<float[]> reference = new ArrayList<>();
        List<Integer> referenceTokens;
        try (CheckpointWeights w = CheckpointWeights.open(src);
             Sequence seq = new MoeDecoder(w, DecoderOptions.defaults().withVectorKernels(false).withThreads(1)
                     .withSpeculativePrefetch(false)).newSequence()) {
            referenceTokens = seq.generate(prompt, steps, Sampler.greedy(), Set.of(), s -> {
                if (s.sampled() >= 0) {
                    reference.add(s.logits());
                }
            });
        }

        Manifest m = ManifestCodec.read(model);
        long tight = Generator.denseBytes(m) + 2L * m.moeConfig().expertBytes();
        GenerationResult paged = Generator.run(new GenerationRequest(model, prompt, steps,
                RuntimeOptions.builder().hostBudget(tight).noDiskCache().build(), null, Sampler.greedy(),
                DecoderOptions.defaults()), StepListener.NONE);
        String what = family + " " + dtype + " " + layout;
        assertEquals(referenceTokens, paged.generated(), what);
        for (int s = 0; s < steps; s++) {
            float[] want = reference.get(s);
            float max = 0;
            for (float v : want) {
                max = Math.max(max, Math.abs(v));
            }
            float[] got = paged.logits().get(s);
            for (int i = 0; i < want.length; i++) {
                assertEquals(want[i], got[i], 1e-3 * max, what + " step " + s + " logit " + i);
            }
        }
        assertTrue(paged.telemetry().tier(Tier.HOST).evictions() >= steps, what + ": the budget must force paging");

        GenerationResult resident = Generator.run(new GenerationRequest(model, prompt, steps,
                RuntimeOptions.builder().hostBudget(1L << 30).noDiskCache().build(), null, Sampler.greedy(),
                DecoderOptions.defaults()), StepListener.NONE);
        for (int s = 0; s < steps; s++) {
            assertArrayEquals(resident.logits().get(s), paged.logits().get(s), what + ": paging changed step " + s);
        }
    }
}
