package io.strata.loader.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.kernels.cpu.CpuKernels;
import io.strata.kernels.cpu.TilesOff;
import io.strata.kernels.quant.QuantArithmetic;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The Java and the native CPU kernels give a whole model the same bits: llama.cpp's GGUF files (every quant of
 * testdata's mixtral-tiny), teacher-forced through prompt and batched prefill, in both quantised arithmetics.
 * Each kernel pair has its own bit-identity test; this one catches a kernel the decoder reaches that such a test
 * does not cover (attention, norms, the F32 router, a batch form, a row range split over threads). With the
 * K-quants' tile form off: it is native only (AMX), and its float order is its own (KQuantTilesTest; a prompt
 * through it agrees with llama.cpp as closely as the rows kernels do: GgufFidelityTest).
 */
@ExtendWith(TilesOff.class)
class KernelParityTest {
    static Stream<Arguments> quantsAndArithmetics() {
        return Stream.of("q8_0", "q6_k", "q5_k_m", "q4_k_m", "q4_0").flatMap(q -> Stream.of(QuantArithmetic.values())
                .map(a -> Arguments.of(q, a)));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("quantsAndArithmetics")
    void javaAndNativeKernelsGiveTheSameLogits(String quant, QuantArithmetic a) throws Exception {
        assumeTrue(CpuKernels.nativeUnavailable().isEmpty(), () -> "native kernels: " + CpuKernels.nativeUnavailable());
        JsonNode ref = GgufFidelityTest.json("dequant-torch-" + quant + ".json");
        int[] prompt = GgufFidelityTest.ints(ref.get("prompt"));
        int[] fed = GgufFidelityTest.ints(ref.get("fed"));
        CpuKernels was = CpuKernels.active();
        float[][] java;
        float[][] nat;
        try {
            CpuKernels.use(CpuKernels.JAVA);
            java = logits(quant, a, prompt, fed);
            CpuKernels.use(CpuKernels.NATIVE);
            nat = logits(quant, a, prompt, fed);
        } finally {
            CpuKernels.use(was);
        }
        for (int s = 0; s < fed.length; s++) {
            assertArrayEquals(java[s], nat[s], quant + " " + a + " step " + s + ": java vs native kernels");
        }
    }

    private static float[][] logits(String quant, QuantArithmetic a, int[] prompt, int[] fed) {
        try (ModelRuntime rt = ModelRuntime.open(GgufFidelityTest.gguf(quant),
                GgufFidelityTest.base().hostBudget(1L << 30).build())) {
            return GgufFidelityTest.teacherForced(rt, a, prompt, fed);
        }
    }
}
