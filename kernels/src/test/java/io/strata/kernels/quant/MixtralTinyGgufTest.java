package io.strata.kernels.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.core.model.DType;
import io.strata.core.model.ModelFamily;
import io.strata.kernels.decoder.ModelConfig;
import io.strata.storage.gguf.GgufFile;
import io.strata.storage.gguf.GgufModelConfig;
import io.strata.storage.gguf.GgufTensor;
import io.strata.testdata.TestData;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The dequantisers and kernels on the GGUF files llama.cpp wrote and quantised from one model (testdata
 * fixtures/gguf/mixtral-tiny): every tensor of every quant dequantises close to the same tensor of the Q8_0
 * file, within that type's quantisation error; F32 tensors, and tensors Q8_0 in both files, are bit-identical.
 * A wrong block layout gives errors of the order of the values themselves (relative RMS ~1.4), far above these
 * bounds.
 */
class MixtralTinyGgufTest {
    /** Bounds on RMS(dq - dq_Q8_0) / RMS(dq_Q8_0) per type, about 1.5x what these files show. */
    static final Map<DType, Double> MAX_RELATIVE_RMS = Map.of(
            DType.Q6_K, 0.03, DType.Q5_K, 0.06, DType.Q4_K, 0.12, DType.Q4_0, 0.15);

    static Path fixture(String quant) {
        return TestData.dir("fixtures/gguf/mixtral-tiny").resolve("mixtral-tiny-" + quant + ".gguf");
    }

    static float[] dequantize(GgufTensor t) {
        return Dequantize.all(t.dtype(), t.data(), t.elementCount());
    }

    @ParameterizedTest
    @ValueSource(strings = {"q6_k", "q5_k_m", "q4_k_m", "q4_0"})
    void everyTensorDequantisesCloseToTheQ8File(String quant) {
        try (GgufFile g = GgufFile.open(fixture(quant)); GgufFile q8 = GgufFile.open(fixture("q8_0"))) {
            for (GgufTensor t : g.tensors()) {
                GgufTensor r = q8.tensor(t.name());
                float[] a = dequantize(t);
                float[] b = dequantize(r);
                if (t.dtype() == r.dtype()) {
                    assertArrayEquals(b, a, t.name() + " is " + t.dtype() + " in both files");
                    continue;
                }
                double rel = relativeRms(a, b);
                assertTrue(rel <= MAX_RELATIVE_RMS.get(t.dtype()), quant + " " + t.name() + " " + t.dtype()
                        + ": relative RMS " + rel + " vs the Q8_0 file");
            }
        }
    }

    static double relativeRms(float[] a, float[] ref) {
        double err = 0;
        double norm = 0;
        for (int i = 0; i < a.length; i++) {
            err += (a[i] - ref[i]) * (double) (a[i] - ref[i]);
            norm += ref[i] * (double) ref[i];
        }
        return Math.sqrt(err / norm);
    }

    @Test
    void theBoundsTellTensorsApart() {
        try (GgufFile g = GgufFile.open(fixture("q4_k_m")); GgufFile q8 = GgufFile.open(fixture("q8_0"))) {
            double rel = relativeRms(dequantize(g.tensor("blk.0.ffn_up_exps.weight")),
                    dequantize(q8.tensor("blk.0.ffn_gate_exps.weight")));
            assertTrue(rel > 1, "another tensor of the same shape is far outside the Q4_K bound: " + rel);
        }
    }

    /**
     * llama.cpp's Q8_0 and Q4_0 scales are the block's (signed) extreme over 127 / -8, which the dequantised
     * block still has: quantising it again reproduces the file's bytes, so {@link Quantize} packs these blocks
     * exactly as llama.cpp does.
     */
    @ParameterizedTest
    @ValueSource(strings = {"q8_0", "q4_0"})
    void requantisingLegacyBlocksReproducesLlamaCppBytes(String quant) {
        int checked = 0;
        try (GgufFile g = GgufFile.open(fixture(quant)); java.lang.foreign.Arena arena =
                java.lang.foreign.Arena.ofConfined()) {
            for (GgufTensor t : g.tensors()) {
                if (t.dtype() == DType.Q8_0 || t.dtype() == DType.Q4_0) {
                    java.lang.foreign.MemorySegment again = Quantize.tensor(arena, t.dtype(), dequantize(t));
                    assertEquals(-1, again.mismatch(t.data()), quant + " " + t.name());
                    checked++;
                }
            }
        }
        assertTrue(checked >= 15, "checked " + checked);
    }

    @ParameterizedTest
    @ValueSource(strings = {"q8_0", "q6_k", "q5_k_m", "q4_k_m", "q4_0"})
    void theVectorMatvecOnRealTensorsMatchesTheReference(String quant) {
        try (GgufFile g = GgufFile.open(fixture(quant))) {
            for (GgufTensor t : g.tensors()) {
                if (!t.dtype().isQuantized()) {
                    continue;
                }
                int cols = (int) t.rowLength();
                int rows = (int) t.rowCount();
                float[] x = QuantMatVecTest.randomX(new java.util.Random(t.index()), cols);
                double[] abs = new double[rows];
                float[] ref = QuantMatVecTest.reference(t.dtype(), t.data(), rows, cols, x, abs);
                float[] y = new float[rows];
                QuantMatVec.matvec(t.dtype(), t.data(), rows, cols, x, 0, y, 0, 0, rows);
                for (int r = 0; r < rows; r++) {
                    assertTrue(Math.abs(y[r] - ref[r]) <= 1e-5 * abs[r], t.name() + " row " + r);
                }
            }
        }
    }

    @Test
    void theConfigViewParsesAsTheDecodersMixtralConfig() {
        try (GgufFile g = GgufFile.open(fixture("q4_k_m"))) {
            ModelConfig c = ModelConfig.parse(GgufModelConfig.hfConfig(g));
            assertEquals(ModelFamily.MIXTRAL, c.family());
            assertEquals(512, c.vocabSize());
            assertEquals(256, c.hiddenSize());
            assertEquals(2, c.numLayers());
            assertEquals(64, c.headDim());
            assertEquals(8, c.numExperts());
            assertEquals(2, c.expertsPerToken());
            assertEquals(256, c.expertIntermediateSize());
            assertEquals(10000.0, c.ropeTheta());
            assertEquals(1e-5f, c.rmsNormEps());
            assertTrue(c.ropeInterleaved(), "arch llama keeps llama.cpp's permuted q/k: interleaved RoPE");
            int[] s = {(int) g.tensor("blk.0.ffn_gate_exps.weight").dim(0),
                    (int) g.tensor("blk.0.ffn_gate_exps.weight").dim(1),
                    (int) g.tensor("blk.0.ffn_gate_exps.weight").dim(2)};
            assertArrayEquals(new int[]{c.numExperts(), c.expertIntermediateSize(), c.hiddenSize()}, s,
                    "fused experts are [expert, out, in] row-major");
        }
    }
}
