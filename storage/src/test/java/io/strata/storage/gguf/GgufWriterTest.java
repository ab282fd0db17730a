package io.strata.storage.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.strata.core.model.DType;
import io.strata.storage.safetensors.CheckpointException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** GGUF files written by {@link GgufWriter} read back through {@link GgufFile}: metadata, tensors, layout. */
class GgufWriterTest {
    @TempDir
    Path tmp;

    static MemorySegment random(Arena arena, long n, long seed) {
        byte[] b = new byte[(int) n];
        new Random(seed).nextBytes(b);
        return arena.allocate(n).copyFrom(MemorySegment.ofArray(b));
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 3})
    void everyValueTypeAndTensorRoundTrips(int version) {
        Path f = tmp.resolve("all.gguf");
        GgufArray nested = new GgufArray(GgufValueType.ARRAY, List.of(
                new GgufArray(GgufValueType.INT16, List.of(-3L, 7L)),
                new GgufArray(GgufValueType.INT16, List.of())));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment f32 = random(arena, 3 * 5 * 4, 1);
            MemorySegment q8 = random(arena, 4 * 2 * 34, 2);
            MemorySegment q4k = random(arena, 2 * 144, 3);
            MemorySegment bf16 = random(arena, 7 * 2, 4);
            new GgufWriter().version(version).alignment(64)
                    .putString("general.architecture", "llama")
                    .put("u8", GgufValueType.UINT8, 255).put("i8", GgufValueType.INT8, -128)
                    .put("u16", GgufValueType.UINT16, 65535).put("i16", GgufValueType.INT16, -32768)
                    .put("u32", GgufValueType.UINT32, 4294967295L).put("i32", GgufValueType.INT32, -7)
                    .put("u64", GgufValueType.UINT64, 1L << 62).put("i64", GgufValueType.INT64, Long.MIN_VALUE)
                    .put("f32", GgufValueType.FLOAT32, 1.5f).put("f64", GgufValueType.FLOAT64, Math.PI)
                    .put("yes", GgufValueType.BOOL, true).put("no", GgufValueType.BOOL, false)
                    .putString("utf8", "h\u00e9llo \u2603")
                    .put("strings", GgufValueType.ARRAY, new GgufArray(GgufValueType.STRING, List.of("a", "", "bc")))
                    .put("floats", GgufValueType.ARRAY, new GgufArray(GgufValueType.FLOAT32, List.of(0.25f, -2f)))
                    .put("nested", GgufValueType.ARRAY, nested)
                    .tensor("a", DType.F32, new long[]{3, 5}, f32)
                    .tensor("experts", DType.Q8_0, new long[]{4, 2, 32}, q8)
                    .tensor("k", DType.Q4_K, new long[]{2, 256}, q4k)
                    .tensor("v", DType.BF16, new long[]{7}, bf16)
                    .write(f);
            try (GgufFile g = GgufFile.open(f)) {
                assertEquals(version, g.version());
                assertEquals(64, g.alignment());
                GgufMetadata m = g.metadata();
                assertEquals(List.of("general.alignment", "general.architecture", "u8", "i8", "u16", "i16", "u32",
                        "i32", "u64", "i64", "f32", "f64", "yes", "no", "utf8", "strings", "floats", "nested"),
                        List.copyOf(m.keys()));
                assertEquals(255, m.integer("u8"));
                assertEquals(-128, m.integer("i8"));
                assertEquals(65535, m.integer("u16"));
                assertEquals(-32768, m.integer("i16"));
                assertEquals(4294967295L, m.integer("u32"));
                assertEquals(-7, m.integer("i32"));
                assertEquals(1L << 62, m.integer("u64"));
                assertEquals(Long.MIN_VALUE, m.integer("i64"));
                assertEquals(1.5f, m.value("f32"));
                assertEquals(Math.PI, m.real("f64"));
                assertEquals(true, m.optionalBool("yes").orElseThrow());
                assertEquals(false, m.optionalBool("no").orElseThrow());
                assertEquals("h\u00e9llo \u2603", m.string("utf8"));
                assertEquals(List.of("a", "", "bc"), m.array("strings").values());
                assertEquals(GgufValueType.FLOAT32, m.array("floats").elementType());
                assertEquals(List.of(0.25f, -2f), m.array("floats").values());
                assertEquals(nested, m.array("nested"));
                assertEquals(List.of("a", "experts", "k", "v"), g.tensors().stream().map(GgufTensor::name).toList());
                check(g.tensor("a"), DType.F32, new long[]{3, 5}, f32);
                check(g.tensor("experts"), DType.Q8_0, new long[]{4, 2, 32}, q8);
                check(g.tensor("k"), DType.Q4_K, new long[]{2, 256}, q4k);
                check(g.tensor("v"), DType.BF16, new long[]{7}, bf16);
                for (GgufTensor t : g.tensors()) {
                    assertEquals(0, (t.fileOffset() - g.dataOffset()) % 64, t.name() + " aligned");
                }
                assertEquals(256, g.tensor("k").rowLength());
                assertEquals(8, g.tensor("experts").rowCount());
            }
        }
        assertFalse(Files.exists(tmp.resolve("all.gguf.tmp")));
    }

    private static void check(GgufTensor t, DType type, long[] shape, MemorySegment bytes) {
        assertEquals(type, t.dtype(), t.name());
        assertArrayEquals(shape, t.shape(), t.name());
        assertEquals(-1, t.data().mismatch(bytes), t.name() + " bytes");
    }

    @Test
    void aFileWithoutTensorsIsValid() {
        Path f = tmp.resolve("empty.gguf");
        new GgufWriter().putString("general.architecture", "llama").write(f);
        try (GgufFile g = GgufFile.open(f)) {
            assertTrue(g.tensors().isEmpty());
            assertEquals(1, g.metadata().keys().size());
        }
    }

    @Test
    void writerRefusesBytesThatDoNotMatchTheShape() {
        try (Arena arena = Arena.ofConfined()) {
            var e = assertThrows(IllegalArgumentException.class, () -> new GgufWriter()
                    .tensor("w", DType.Q4_0, new long[]{2, 32}, arena.allocate(35)));
            assertTrue(e.getMessage().contains("'w'") && e.getMessage().contains("needs 36"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> new GgufWriter()
                    .tensor("w", DType.Q4_0, new long[]{2, 31}, arena.allocate(36)));
            assertTrue(e.getMessage().contains("whole number"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> new GgufWriter()
                    .put("k", GgufValueType.UINT32, "seven"));
            assertTrue(e.getMessage().contains("'k'"), e.getMessage());
        }
    }

    private Path moe(String arch, boolean withOutput, String... drop) {
        Path f = tmp.resolve(arch + ".gguf");
        GgufWriter w = new GgufWriter().putString("general.architecture", arch);
        Object[][] keys = {
                {"block_count", 48L}, {"embedding_length", 2048L}, {"feed_forward_length", 6144L},
                {"expert_feed_forward_length", 768L}, {"attention.head_count", 32L},
                {"attention.head_count_kv", 4L}, {"attention.key_length", 128L}, {"attention.value_length", 128L},
                {"expert_count", 128L}, {"expert_used_count", 8L}, {"context_length", 40960L},
                {"expert_shared_feed_forward_length", 5632L}};
        for (Object[] k : keys) {
            if (!List.of(drop).contains((String) k[0])) {
                w.putUint32(arch + "." + k[0], (Long) k[1]);
            }
        }
        if (!List.of(drop).contains("attention.layer_norm_rms_epsilon")) {
            w.putFloat32(arch + ".attention.layer_norm_rms_epsilon", 1e-6f);
        }
        w.putFloat32(arch + ".rope.freq_base", 1000000f);
        w.put("tokenizer.ggml.tokens", GgufValueType.ARRAY, new GgufArray(GgufValueType.STRING,
                List.of("a", "b", "c")));
        try (Arena arena = Arena.ofConfined()) {
            if (withOutput) {
                w.tensor("output.weight", DType.F32, new long[]{1}, arena.allocate(4));
            }
            w.write(f);
        }
        return f;
    }

    @Test
    void qwen3MoeConfig() {
        try (GgufFile g = GgufFile.open(moe("qwen3moe", false))) {
            ObjectNode c = GgufModelConfig.hfConfig(g);
            assertEquals("qwen3_moe", c.get("model_type").asText());
            assertEquals(128, c.get("num_experts").asInt());
            assertEquals(8, c.get("num_experts_per_tok").asInt());
            assertEquals(768, c.get("moe_intermediate_size").asInt());
            assertEquals(6144, c.get("intermediate_size").asInt());
            assertEquals(128, c.get("head_dim").asInt());
            assertEquals(4, c.get("num_key_value_heads").asInt());
            assertEquals(3, c.get("vocab_size").asInt(), "from tokenizer.ggml.tokens");
            assertEquals(1e6, c.get("rope_theta").asDouble());
            assertEquals(1e-6f, (float) c.get("rms_norm_eps").asDouble());
            assertTrue(c.get("norm_topk_prob").asBoolean());
            assertTrue(c.get("tie_word_embeddings").asBoolean(), "no output.weight");
        }
        try (GgufFile g = GgufFile.open(moe("qwen2moe", true))) {
            ObjectNode c = GgufModelConfig.hfConfig(g);
            assertEquals("qwen2_moe", c.get("model_type").asText());
            assertEquals(5632, c.get("shared_expert_intermediate_size").asInt());
            assertFalse(c.get("norm_topk_prob").asBoolean());
        }
        try (GgufFile g = GgufFile.open(moe("olmoe", true))) {
            ObjectNode c = GgufModelConfig.hfConfig(g);
            assertEquals("olmoe", c.get("model_type").asText());
            assertEquals(768, c.get("intermediate_size").asInt());
        }
    }

    @Test
    void configErrorsNameFileAndKey() {
        Path f = moe("qwen3moe", false, "expert_feed_forward_length");
        try (GgufFile g = GgufFile.open(f)) {
            var e = assertThrows(CheckpointException.class, () -> GgufModelConfig.hfConfig(g));
            assertEquals(f + ": metadata key 'qwen3moe.expert_feed_forward_length' is missing (expected an integer)",
                    e.getMessage());
        }
        Path eps = moe("qwen3moe", false, "attention.layer_norm_rms_epsilon");
        try (GgufFile g = GgufFile.open(eps)) {
            var e = assertThrows(CheckpointException.class, () -> GgufModelConfig.hfConfig(g));
            assertTrue(e.getMessage().contains("'qwen3moe.attention.layer_norm_rms_epsilon' is missing"),
                    e.getMessage());
        }
        Path other = moe("gpt2", false);
        try (GgufFile g = GgufFile.open(other)) {
            var e = assertThrows(CheckpointException.class, () -> GgufModelConfig.hfConfig(g));
            assertTrue(e.getMessage().startsWith(other + ": metadata 'general.architecture': 'gpt2' is not supported"),
                    e.getMessage());
        }
        Path blocks = moe("qwen3moe", false, "block_count");
        try (GgufFile g = GgufFile.open(blocks)) {
            var e = assertThrows(CheckpointException.class, () -> GgufModelConfig.hfConfig(g));
            assertTrue(e.getMessage().contains("'qwen3moe.block_count' is missing"), e.getMessage());
        }
    }

    @Test
    void f16TensorBytesAreKept() {
        Path f = tmp.resolve("f16.gguf");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment h = arena.allocate(2 * 3);
            for (int i = 0; i < 3; i++) {
                h.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, Float.floatToFloat16(i - 1.5f));
            }
            new GgufWriter().tensor("h", DType.F16, new long[]{3}, h).write(f);
            try (GgufFile g = GgufFile.open(f)) {
                assertEquals(DType.F16, g.tensor("h").dtype());
                assertEquals(0.5f, Float.float16ToFloat(g.tensor("h").data()
                        .getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, 2)));
            }
        }
    }
}
