package io.strata.storage.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.strata.core.model.DType;
import io.strata.testdata.TestData;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Reads the GGUF files llama.cpp itself wrote and quantised (testdata fixtures/gguf/mixtral-tiny). The expected
 * names, types, shapes, offsets and values were taken from the files with an independent Python reader.
 */
class GgufFixtureTest {
    static Path fixture(String quant) {
        return TestData.dir("fixtures/gguf/mixtral-tiny").resolve("mixtral-tiny-" + quant + ".gguf");
    }

    /** name, type, row-major shape, offset in the data section: as the Q4_K_M file's tensor infos say. */
    private static final List<String> Q4_K_M = List.of(
            "output.weight Q6_K 512x256 0",
            "output_norm.weight F32 256 107520",
            "token_embd.weight Q4_K 512x256 108544",
            "blk.0.attn_k.weight Q8_0 128x256 182272",
            "blk.0.attn_norm.weight F32 256 217088",
            "blk.0.attn_output.weight Q5_K 256x256 218112",
            "blk.0.attn_q.weight Q4_K 256x256 263168",
            "blk.0.attn_v.weight Q8_0 128x256 300032",
            "blk.0.ffn_down_exps.weight Q4_K 8x256x256 334848",
            "blk.0.ffn_gate_exps.weight Q4_K 8x256x256 629760",
            "blk.0.ffn_gate_inp.weight F32 8x256 924672",
            "blk.0.ffn_norm.weight F32 256 932864",
            "blk.0.ffn_up_exps.weight Q4_K 8x256x256 933888",
            "blk.1.attn_k.weight Q8_0 128x256 1228800",
            "blk.1.attn_norm.weight F32 256 1263616",
            "blk.1.attn_output.weight Q5_K 256x256 1264640",
            "blk.1.attn_q.weight Q4_K 256x256 1309696",
            "blk.1.attn_v.weight Q8_0 128x256 1346560",
            "blk.1.ffn_down_exps.weight Q6_K 8x256x256 1381376",
            "blk.1.ffn_gate_exps.weight Q4_K 8x256x256 1811456",
            "blk.1.ffn_gate_inp.weight F32 8x256 2106368",
            "blk.1.ffn_norm.weight F32 256 2114560",
            "blk.1.ffn_up_exps.weight Q4_K 8x256x256 2115584");

    @Test
    void q4KmTensorInfosAreWhatTheFileSays() throws Exception {
        Path p = fixture("q4_k_m");
        try (GgufFile g = GgufFile.open(p)) {
            assertEquals(3, g.version());
            assertEquals(32, g.alignment());
            assertEquals(2304, g.dataOffset(), "header ends at 2299, padded to 32");
            assertEquals(Q4_K_M.size(), g.tensors().size());
            for (int i = 0; i < Q4_K_M.size(); i++) {
                String[] f = Q4_K_M.get(i).split(" ");
                GgufTensor t = g.tensors().get(i);
                assertEquals(f[0], t.name());
                assertEquals(i, t.index());
                assertEquals(DType.valueOf(f[1]), t.dtype(), t.name());
                assertEquals(f[2], String.join("x", Arrays.stream(t.shape()).mapToObj(Long::toString).toList()),
                        t.name());
                assertEquals(2304 + Long.parseLong(f[3]), t.fileOffset(), t.name());
                assertEquals(t.dtype().bytesFor(t.shape()), t.byteSize());
                assertEquals(g.mapping().segment().address() + t.fileOffset(), t.data().address(), "zero-copy");
                assertEquals(t, g.tensor(t.name()));
            }
            // the last tensor ends where the file ends (8x256x256 Q4_K = 2048 rows of 144 bytes)
            GgufTensor last = g.tensors().getLast();
            assertEquals(Files.size(p), last.fileOffset() + 2048L * 144);
            // values read by the independent reader
            ValueLayout.OfFloat f32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
            GgufTensor norm = g.tensor("output_norm.weight");
            assertEquals(0.97265625f, norm.data().get(f32, 0));
            assertEquals(1.0859375f, norm.data().get(f32, 12));
            assertEquals(-0.0751953125f, g.tensor("blk.0.ffn_gate_inp.weight").data().get(f32, 4));
        }
    }

    @Test
    void metadataIsReadInFileOrderWithItsTypes() {
        try (GgufFile g = GgufFile.open(fixture("q4_k_m"))) {
            GgufMetadata m = g.metadata();
            assertEquals(21, m.keys().size());
            assertEquals("general.architecture", m.keys().iterator().next());
            assertEquals("llama", m.string("general.architecture"));
            assertEquals("mixtral-tiny", m.string("general.name"));
            assertEquals(GgufValueType.UINT32, m.entry("llama.block_count").orElseThrow().type());
            assertEquals(2, m.integer("llama.block_count"));
            assertEquals(15, m.integer("general.file_type"), "15 = MOSTLY_Q4_K_M");
            assertEquals(10000.0, m.real("llama.rope.freq_base"));
            assertEquals(GgufValueType.FLOAT32, m.entry("llama.attention.layer_norm_rms_epsilon").orElseThrow().type());
            assertEquals(9.999999747378752e-06, m.real("llama.attention.layer_norm_rms_epsilon"));
            assertEquals("none", m.string("tokenizer.ggml.model"));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"q8_0", "q6_k", "q5_k_m", "q4_k_m", "q4_0"})
    void everyQuantHasTheSameTensorsWithTheirTypeCounts(String quant) {
        Map<String, Map<DType, Integer>> expect = Map.of(
                "q8_0", Map.of(DType.Q8_0, 16, DType.F32, 7),
                "q6_k", Map.of(DType.Q6_K, 12, DType.Q8_0, 4, DType.F32, 7),
                "q5_k_m", Map.of(DType.Q5_K, 10, DType.Q6_K, 2, DType.Q8_0, 4, DType.F32, 7),
                "q4_k_m", Map.of(DType.Q4_K, 8, DType.Q5_K, 2, DType.Q6_K, 2, DType.Q8_0, 4, DType.F32, 7),
                "q4_0", Map.of(DType.Q4_0, 11, DType.Q6_K, 1, DType.Q8_0, 4, DType.F32, 7));
        try (GgufFile g = GgufFile.open(fixture(quant)); GgufFile ref = GgufFile.open(fixture("q4_k_m"))) {
            Map<DType, Integer> counts = new EnumMap<>(DType.class);
            g.tensors().forEach(t -> counts.merge(t.dtype(), 1, Integer::sum));
            assertEquals(expect.get(quant), counts);
            assertEquals(ref.tensors().stream().map(GgufTensor::name).toList(),
                    g.tensors().stream().map(GgufTensor::name).toList());
            for (GgufTensor t : g.tensors()) {
                assertTrue(Arrays.equals(ref.tensor(t.name()).shape(), t.shape()), t.name());
            }
        }
    }

    @Test
    void configViewIsTheMixtralConfigTheDecoderReads() {
        try (GgufFile g = GgufFile.open(fixture("q8_0"))) {
            ObjectNode c = GgufModelConfig.hfConfig(g);
            assertEquals("mixtral", c.get("model_type").asText());
            assertEquals(512, c.get("vocab_size").asInt());
            assertEquals(256, c.get("hidden_size").asInt());
            assertEquals(2, c.get("num_hidden_layers").asInt());
            assertEquals(4, c.get("num_attention_heads").asInt());
            assertEquals(2, c.get("num_key_value_heads").asInt());
            assertEquals(64, c.get("head_dim").asInt());
            assertEquals(1e-5f, (float) c.get("rms_norm_eps").asDouble());
            assertEquals(10000.0, c.get("rope_theta").asDouble());
            assertEquals(8, c.get("num_local_experts").asInt());
            assertEquals(2, c.get("num_experts_per_tok").asInt());
            assertEquals(256, c.get("intermediate_size").asInt());
            assertEquals(4096, c.get("max_position_embeddings").asInt());
            assertFalse(c.get("tie_word_embeddings").asBoolean(), "output.weight is present");
        }
    }
}
