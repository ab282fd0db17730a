package io.strata.core.manifest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.strata.core.model.DType;
import io.strata.core.model.Layout;
import io.strata.testdata.TestData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * Manifests DOPPLER 0.5.1's converter wrote (testdata fixtures/doppler) read into Strata's model: every tensor's
 * place, dtype and shape against the raw JSON read independently here, the config the decoder reads, and one-line
 * errors naming the field for each kind of description Strata does not understand.
 */
class DopplerManifestTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final List<String> ARTIFACTS = List.of("tiny-mixtral-f16", "tiny-mixtral-q4k", "tiny-mixtral-f32-tok",
            "tiny-mixtral-f16-blake3", "gemma-3-270m-it-f16-af32");

    private static Path dir(String name) {
        return TestData.dir("fixtures/doppler").resolve(name);
    }

    private static ObjectNode raw(String name) throws IOException {
        return (ObjectNode) JSON.readTree(Files.readAllBytes(dir(name).resolve("manifest.json")));
    }

    @Test
    void everyArtifactReadsWithEveryTensorWhereDopplerPutIt() throws IOException {
        for (String a : ARTIFACTS) {
            Manifest m = ManifestCodec.read(dir(a));
            JsonNode raw = raw(a);
            assertEquals(raw.get("tensors").size(), m.tensors().size(), a);
            assertEquals(raw.get("shards").size(), m.shards().size(), a);
            for (Map.Entry<String, JsonNode> e : raw.get("tensors").properties()) {
                TensorInfo t = m.tensor(e.getKey());
                JsonNode r = e.getValue();
                List<Span> want = new ArrayList<>();
                if (r.has("spans")) {
                    r.get("spans").forEach(s -> want.add(new Span(s.get("shardIndex").asInt(),
                            s.get("offset").asLong(), s.get("size").asLong())));
                } else {
                    want.add(new Span(r.get("shard").asInt(), r.get("offset").asLong(), r.get("size").asLong()));
                }
                assertEquals(want, t.ranges(), a + " " + e.getKey());
                assertEquals(r.get("size").asLong(), t.size());
                List<Long> shape = new ArrayList<>();
                r.get("shape").forEach(n -> shape.add(n.asLong()));
                assertEquals(shape, t.logicalShape(), a + " " + e.getKey());
                String dt = r.get("dtype").asText();
                assertEquals(dt.equals("Q4_K_M") ? DType.Q4_K : DType.valueOf(dt), t.dtype());
                assertEquals(r.get("role").asText(), t.role().json());
            }
            for (ShardInfo s : m.shards()) {
                assertTrue(s.chunks().isEmpty(), "DOPPLER shards have no chunk hashes");
            }
            assertFalse(m.hasChunkHashes());
            assertEquals(raw.get("tensors").size(), m.blockMerkle().orElseThrow().roots().size(), a);
        }
    }

    @Test
    void theTensorSplitAcrossShardsHasOnlyItsSpans() {
        TensorInfo t = ManifestCodec.read(dir("tiny-mixtral-f16")).tensor("model.layers.1.self_attn.q_proj.weight");
        assertEquals(List.of(new Span(0, 254976, 7168), new Span(1, 0, 1024)), t.ranges());
    }

    @Test
    void q4kRowsArePaddedToWholeBlocks() {
        Manifest m = ManifestCodec.read(dir("tiny-mixtral-q4k"));
        TensorInfo w1 = m.tensor("model.layers.0.block_sparse_moe.experts.0.w1.weight");
        assertEquals(DType.Q4_K, w1.dtype());
        assertEquals(List.of(128L, 256L), w1.shape(), "64 columns padded to one 256-element block");
        assertEquals(List.of(128L, 64L), w1.logicalShape());
        assertEquals(Layout.ROW, w1.layoutOrRow());
        TensorInfo w2 = m.tensor("model.layers.0.block_sparse_moe.experts.0.w2.weight");
        assertEquals(List.of(64L, 256L), w2.shape());
        assertEquals(List.of(64L, 128L), w2.logicalShape());
        assertEquals(DType.F32, m.tensor("model.layers.0.input_layernorm.weight").dtype());
    }

    @Test
    void hashAlgorithms() {
        assertEquals(Manifest.HASH_SHA256, ManifestCodec.read(dir("tiny-mixtral-f16")).hashAlgorithm());
        assertEquals(Manifest.HASH_DOPPLER_BLAKE3, ManifestCodec.read(dir("tiny-mixtral-f16-blake3")).hashAlgorithm());
    }

    @Test
    void mixtralArtifactsGetTheConfigTheDecoderReads() throws IOException {
        for (String a : List.of("tiny-mixtral-f16", "tiny-mixtral-q4k", "tiny-mixtral-f32-tok")) {
            Manifest m = ManifestCodec.read(dir(a));
            JsonNode c = m.config();
            JsonNode hf = JSON.readTree(TestData.dir("fixtures/tiny-mixtral-f32").resolve("config.json").toFile());
            for (String k : List.of("model_type", "hidden_size", "intermediate_size", "num_hidden_layers",
                    "num_attention_heads", "num_key_value_heads", "head_dim", "vocab_size", "num_local_experts",
                    "num_experts_per_tok", "tie_word_embeddings")) {
                assertEquals(hf.get(k), c.get(k), a + " " + k);
            }
            assertEquals(hf.get("rms_norm_eps").asDouble(), c.get("rms_norm_eps").asDouble(), a);
            assertEquals(hf.get("rope_theta").asDouble(), c.get("rope_theta").asDouble(), a);
            assertTrue(m.decoderProblem().isEmpty(), a + ": " + m.decoderProblem());
            assertEquals("MixtralForCausalLM", m.architecture());
            assertEquals(4, m.moeConfig().numExperts());
            assertEquals(2, m.moeConfig().numMoeLayers());
            assertTrue(m.groups().isEmpty());
            assertEquals("expert.1.3", m.tensor("model.layers.1.block_sparse_moe.experts.3.w2.weight").group(),
                    "DOPPLER's layer.1.expert.3 under Strata's name");
            assertEquals("layer.1", m.tensor("model.layers.1.self_attn.q_proj.weight").group());
            long expert = 0;
            for (String p : List.of("w1", "w2", "w3")) {
                expert += m.tensor("model.layers.0.block_sparse_moe.experts.0." + p + ".weight").size();
            }
            assertEquals(expert, m.moeConfig().expertBytes(), a);
        }
        JsonNode tok = raw("tiny-mixtral-f32-tok").get("tokenizer");
        assertEquals("bundled", tok.get("type").asText());
    }

    @Test
    void gemmaLoadsAndSaysWhyItCannotRun() {
        Manifest m = ManifestCodec.read(dir("gemma-3-270m-it-f16-af32"));
        assertEquals(236, m.tensors().size());
        assertEquals(8, m.shards().size());
        assertNull(m.moeConfig());
        String why = m.decoderProblem().orElseThrow();
        assertTrue(why.contains("dense model"), why);
        assertTrue(why.contains("inference.attention.slidingWindow = 512"), why);
        assertTrue(why.contains("inference.ffn.activation = \"gelu\""), why);
        assertEquals(335544320L, m.tensor("model.embed_tokens.weight").size());
        assertEquals(5, m.tensor("model.embed_tokens.weight").ranges().size());
    }

    private static String failure(String artifact, Consumer<ObjectNode> edit) throws IOException {
        ObjectNode m = raw(artifact);
        edit.accept(m);
        ManifestException e = assertThrows(ManifestException.class,
                () -> ManifestCodec.fromBytes(JSON.writeValueAsBytes(m), "x/manifest.json"));
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        return e.getMessage();
    }

    private static ObjectNode tensor(ObjectNode m, String name) {
        return (ObjectNode) m.get("tensors").get(name);
    }

    @Test
    void descriptionsStrataDoesNotUnderstandAreErrorsNamingTheField() throws IOException {
        String q = "model.layers.0.self_attn.q_proj.weight";
        assertEquals("x/manifest.json: tensors['" + q + "'].storage: a DOPPLER field Strata does not understand",
                failure("tiny-mixtral-f16", m -> tensor(m, q).putObject("storage").put("packing", "q4_0")));
        assertTrue(failure("tiny-mixtral-q4k", m -> tensor(m, q).put("layout", "col"))
                .contains("tensors['" + q + "'].layout: Q4_K_M in layout 'col'"));
        assertTrue(failure("tiny-mixtral-q4k", m -> tensor(m, q).remove("layout"))
                .contains("tensors['" + q + "'].layout: Q4_K_M without a row layout runs its blocks across rows"));
        assertTrue(failure("tiny-mixtral-f16", m -> tensor(m, q).put("dtype", "Q6_K"))
                .contains("tensors['" + q + "'].dtype: 'Q6_K': of DOPPLER's block types only Q4_K_M"));
        assertTrue(failure("tiny-mixtral-f16", m -> tensor(m, q).put("dtype", "W4A16"))
                .contains(".dtype: 'W4A16' is not a type Strata reads"));
        assertTrue(failure("tiny-mixtral-f16", m -> ((ObjectNode) m.get("shards").get(1)).put("offset", 7))
                .contains("shards[1].offset: 7, but the earlier shards end at byte 262144"));
        assertTrue(failure("tiny-mixtral-f16", m -> m.put("hashAlgorithm", "md5"))
                .contains("hashAlgorithm: 'md5' is not one DOPPLER writes"));
        String e0 = "model.layers.0.block_sparse_moe.experts.0.w1.weight";
        assertTrue(failure("tiny-mixtral-f16", m -> tensor(m, e0).put("group", "layer.0.expert.3"))
                .contains(".group: 'layer.0.expert.3' says expert 3 of layer 0, but the name is expert 0 of layer 0"));
        assertTrue(failure("tiny-mixtral-f16", m -> tensor(m, q).put("role", "mystery"))
                .contains(".role: 'mystery' is not a role Strata knows"));
        String split = "model.layers.1.self_attn.q_proj.weight";
        assertTrue(failure("tiny-mixtral-f16", m -> ((ObjectNode) tensor(m, split).get("spans").get(1))
                .put("size", 1000)).contains("tensors['" + split + "'].spans: cover 8168 bytes, tensor is 8192"));
        assertTrue(failure("tiny-mixtral-f16", m -> tensor(m, split).put("shard", 1))
                .contains("top-level shard/offset disagree with spans[0]"));
        assertTrue(failure("tiny-mixtral-f16", m -> ((ObjectNode) m.get("integrityExtensions").get("blockMerkle")
                .get("roots")).put("no.such.tensor", "sha256:" + "0".repeat(64)))
                .contains("integrityExtensions.blockMerkle.roots['no.such.tensor']: no tensor of that name"));
        assertTrue(failure("tiny-mixtral-f16", m -> ((ObjectNode) m.get("integrityExtensions").get("blockMerkle")
                .get("roots")).put(q, "0".repeat(64))).contains("not 'sha256:' and 64 lowercase hex digits"));
        assertTrue(failure("tiny-mixtral-f16", m -> ((ObjectNode) m.get("integrityExtensions")).put(
                "contractVersion", 2)).contains("integrityExtensions.contractVersion: 2 is not supported"));
        assertTrue(failure("tiny-mixtral-f16", m -> tensor(m, q).put("offset", 1.5))
                .contains("tensors['" + q + "'].offset: 1.5 is not a non-negative integer"));
        assertTrue(failure("tiny-mixtral-f16", m -> m.put("tensorsFile", "tensors.json").remove("tensors"))
                .contains("tensorsFile: tensors in a separate file are not supported"));
    }

    @Test
    void inferenceSettingsTheDecoderDoesNotComputeMakeTheModelUnrunnable() throws IOException {
        ObjectNode m = raw("tiny-mixtral-f16");
        ((ObjectNode) m.get("inference").get("attention")).put("slidingWindow", 4096);
        ((ObjectNode) m.get("inference").get("rope")).put("ropeScalingType", "yarn");
        Manifest read = ManifestCodec.fromBytes(JSON.writeValueAsBytes(m), "x");
        String why = read.decoderProblem().orElseThrow();
        assertTrue(why.contains("inference.attention.slidingWindow = 4096"), why);
        assertTrue(why.contains("inference.rope.ropeScalingType = \"yarn\""), why);
        assertEquals("transformer", read.config().get("model_type").asText(), "not claimed to be Mixtral");
    }
}
