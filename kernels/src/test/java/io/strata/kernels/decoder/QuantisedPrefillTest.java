package io.strata.kernels.decoder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.strata.core.model.DType;
import io.strata.core.model.ModelFamily;
import io.strata.core.model.ModelTensor;
import io.strata.core.weights.TensorView;
import io.strata.kernels.cpu.CpuKernels;
import io.strata.kernels.cpu.FloatCodec;
import io.strata.kernels.cpu.NativeKQuantInt8;
import io.strata.kernels.cpu.TilesOff;
import io.strata.kernels.quant.QuantArithmetic;
import io.strata.kernels.quant.Quantize;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A prompt through a model whose matrices are block-quantised (every one but the embedding and the router, as
 * in a GGUF) gives the logits and routing of a token-by-token pass bit for bit, for any batch size and thread
 * count, in both quantised arithmetics: the batched quantised matvec keeps each position's operations. That is
 * with the K-quants' tile form off; with it (AMX), the logits agree within 1e-5 of their largest magnitude, bit
 * for bit across thread counts.
 */
@ExtendWith(TilesOff.class)
class QuantisedPrefillTest {
    private static final int[] PROMPT = {5, 17, 3, 96, 41, 0, 63, 63, 12, 88, 7};
    /** hidden, q/kv dims and FFN sizes are whole 256-element super-blocks */
    private static final SyntheticMoeModel.Shape SHAPE = new SyntheticMoeModel.Shape(ModelFamily.MIXTRAL, DType.BF16,
            97, 256, 2, 2, 1, 128, 4, 2, 256, 0, true, 1, List.of(), false);
    @ParameterizedTest(name = "{0}")
    @EnumSource(value = DType.class, names = {"Q4_K", "Q5_K", "Q6_K"})
    void withTheTileFormABatchedPromptAgreesWithTokenByTokenWithin1e5(DType t) {
        assumeTrue(NativeKQuantInt8.tilesUnavailable() == null
                && CpuKernels.nativeUnavailable().isEmpty(), "tile form unavailable here");
        CpuKernels kernels = CpuKernels.active();
        CpuKernels.use(CpuKernels.NATIVE);
        try (SyntheticMoeModel model = SyntheticMoeModel.generate(SHAPE, 21)) {
            Arena arena = Arena.ofShared(); // closed with the source
            try (MapWeightSource src = new MapWeightSource(model.config(), quantised(model, t, arena), arena)) {
                List<float[]> reference = tokenByToken(src, QuantArithmetic.INT8);
                NativeKQuantInt8.useTiles(true);
                List<float[]> oneThread = null;
                int differ = 0;
                for (int threads : new int[]{1, 3}) {
                    MoeDecoder d = new MoeDecoder(src, DecoderOptions.defaults().withThreads(threads)
                            .withPrefillBatch(128).withQuantArithmetic(QuantArithmetic.INT8));
                    try (Sequence s = d.newSequence()) {
                        List<ForwardStep> steps = s.prefillSteps(PROMPT);
                        List<float[]> logits = steps.stream().map(ForwardStep::logits).toList();
                        for (int p = 0; p < PROMPT.length; p++) {
                            float[] want = reference.get(p);
                            float[] got = logits.get(p);
                            float scale = 0f;
                            for (float v : want) {
                                scale = Math.max(scale, Math.abs(v));
                            }
                            for (int i = 0; i < want.length; i++) {
                                float e = Math.abs(got[i] - want[i]);
                                if (!(e <= 1e-5f * scale)) {
                                    throw new AssertionError(t + ", " + threads + " threads, position " + p
                                            + ", logit " + i + ": " + got[i] + ", token by token " + want[i]
                                            + " (largest |logit| " + scale + ")");
                                }
                                differ += Float.floatToRawIntBits(got[i]) != Float.floatToRawIntBits(want[i]) ? 1 : 0;
                            }
                            if (oneThread != null) {
                                assertArrayEquals(oneThread.get(p), got, t + ": 3 threads' bits are 1 thread's");
                            }
                        }
                        oneThread = logits;
                    }
                }
                assertTrue(differ > 0, "the tile form ran (its rounding shows)");
            }
        } finally {
            CpuKernels.use(kernels);
        }
    }

    static Stream<Arguments> typesAndArithmetics() {
        return Stream.of(DType.Q8_0, DType.Q4_0, DType.Q5_1, DType.Q4_K, DType.Q5_K, DType.Q6_K, DType.Q3_K)
                .flatMap(t -> Stream.of(QuantArithmetic.values()).map(a -> Arguments.of(t, a)));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("typesAndArithmetics")
    void batchedPromptEqualsTokenByTokenBitForBit(DType t, QuantArithmetic a) {
        try (SyntheticMoeModel model = SyntheticMoeModel.generate(SHAPE, 21)) {
            Arena arena = Arena.ofShared(); // closed with the source
            try (MapWeightSource src = new MapWeightSource(model.config(), quantised(model, t, arena), arena)) {
                List<float[]> reference = tokenByToken(src, a);
                for (int threads : new int[]{1, 3}) {
                    for (int batch : new int[]{4, 128}) {
                        MoeDecoder d = new MoeDecoder(src, DecoderOptions.defaults().withThreads(threads)
                                .withPrefillBatch(batch).withQuantArithmetic(a));
                        try (Sequence s = d.newSequence()) {
                            List<ForwardStep> steps = s.prefillSteps(PROMPT);
                            assertEquals(PROMPT.length, steps.size());
                            for (int p = 0; p < PROMPT.length; p++) {
                                assertArrayEquals(reference.get(p), steps.get(p).logits(),
                                        t + " " + a + ", " + threads + " threads, batch " + batch + ", position " + p);
                            }
                        }
                    }
                }
            }
        }
    }

    /** The logits of PROMPT stepped one token at a time on one thread, in arithmetic a. */
    private static List<float[]> tokenByToken(MapWeightSource src, QuantArithmetic a) {
        List<float[]> out = new ArrayList<>();
        try (Sequence s = new MoeDecoder(src, DecoderOptions.defaults().withThreads(1).withQuantArithmetic(a))
                .newSequence()) {
            for (int token : PROMPT) {
                out.add(s.step(token).logits());
            }
        }
        return out;
    }

    /** The model's matrices quantised to t row by row (round to nearest), embedding and routers kept. */
    private static Map<String, TensorView> quantised(SyntheticMoeModel model, DType t, Arena arena) {
        ModelFamily f = ModelFamily.MIXTRAL;
        Set<String> keep = new HashSet<>(Set.of(f.tensorName(ModelTensor.EMBEDDING, 0)));
        for (int l = 0; l < 2; l++) {
            keep.add(f.tensorName(ModelTensor.ROUTER, l));
        }
        Map<String, TensorView> out = new LinkedHashMap<>();
        int quantisedCount = 0;
        for (TensorView v : model.tensors().values()) {
            if (v.shape().length != 2 || keep.contains(v.name())) {
                out.put(v.name(), v);
                continue;
            }
            int cols = Math.toIntExact(v.cols());
            long rowBytes = t.rowBytes(cols);
            MemorySegment m = arena.allocate(rowBytes * v.rows(), 64);
            float[] row = new float[cols];
            for (long r = 0; r < v.rows(); r++) {
                FloatCodec.decode(v.data(), v.dtype(), r * cols, row, 0, cols);
                Quantize.row(t, row, 0, cols, m, r * rowBytes);
            }
            out.put(v.name(), new TensorView(v.name(), m, t, v.shape(), v.layout()));
            quantisedCount++;
        }
        assertEquals(2 * (4 + 4 * 3) + 1, quantisedCount, "attention, experts and the LM head are quantised");
        return out;
    }
}
