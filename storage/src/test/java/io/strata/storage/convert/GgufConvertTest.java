package io.strata.storage.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.core.hash.Blake3;
import io.strata.core.manifest.GroupInfo;
import io.strata.core.manifest.Manifest;
import io.strata.core.manifest.TensorInfo;
import io.strata.core.manifest.TokenizerInfo;
import io.strata.core.model.Layout;
import io.strata.storage.gguf.GgufFile;
import io.strata.storage.gguf.GgufTensor;
import io.strata.storage.model.ConvertedModel;
import io.strata.storage.model.ModelVerifier;
import io.strata.testdata.TestData;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code shard-convert model.gguf} on the GGUF files llama.cpp wrote (testdata fixtures/gguf/mixtral-tiny): every
 * expert's bytes in the output equal the rows of the fused tensor they were cut from, dense tensors are byte-equal
 * under their Hugging Face names, types are kept, and the result verifies. The expected names and ranges are
 * written out here from GGUF's conventions, not taken from the converter.
 */
class GgufConvertTest {
    private static final Pattern FUSED = Pattern.compile("blk\\.(\\d+)\\.ffn_(gate|up|down)_exps\\.weight");
    private static final Map<String, String> DENSE = Map.ofEntries(
            Map.entry("token_embd.weight", "model.embed_tokens.weight"),
            Map.entry("output_norm.weight", "model.norm.weight"),
            Map.entry("output.weight", "lm_head.weight"),
            Map.entry("attn_norm.weight", "input_layernorm.weight"),
            Map.entry("attn_q.weight", "self_attn.q_proj.weight"),
            Map.entry("attn_k.weight", "self_attn.k_proj.weight"),
            Map.entry("attn_v.weight", "self_attn.v_proj.weight"),
            Map.entry("attn_output.weight", "self_attn.o_proj.weight"),
            Map.entry("ffn_norm.weight", "post_attention_layernorm.weight"),
            Map.entry("ffn_gate_inp.weight", "block_sparse_moe.gate.weight"));

    @TempDir
    Path tmp;

    static Path fixture(String quant) {
        return TestData.dir("fixtures/gguf/mixtral-tiny").resolve("mixtral-tiny-" + quant + ".gguf");
    }

    private static String hfName(String gguf) {
        if (DENSE.containsKey(gguf)) {
            return DENSE.get(gguf);
        }
        Matcher m = Pattern.compile("blk\\.(\\d+)\\.(.*)").matcher(gguf);
        assertTrue(m.matches(), gguf);
        return "model.layers." + m.group(1) + "." + DENSE.get(m.group(2));
    }

    @ParameterizedTest
    @ValueSource(strings = {"q8_0", "q6_k", "q5_k_m", "q4_k_m", "q4_0"})
    void everyExpertIsItsRowsOfTheFusedTensor(String quant) throws Exception {
        Path out = tmp.resolve("m");
        ShardConverter.Result r = ShardConverter.convert(fixture(quant), out,
                ConvertOptions.defaults().withShardSize(256 << 10).withChunkSize(64 << 10), ProgressListener.NONE);
        try (GgufFile g = GgufFile.open(fixture(quant)); ConvertedModel model = ConvertedModel.open(out)) {
            Manifest m = model.manifest();
            assertEquals(r.manifestHash(), model.manifestHash());
            assertEquals("mixtral-tiny-" + quant, m.modelId());
            assertEquals("MixtralForCausalLM", m.architecture());
            assertEquals("mixtral", m.config().path("model_type").asText());
            assertTrue(m.config().path("rope_interleaved").asBoolean(), "llama arch: q/k kept permuted, config says so");
            assertEquals(8, m.moeConfig().numExperts());
            assertEquals(2, m.moeConfig().numExpertsPerToken());
            Set<String> expected = new HashSet<>();
            int experts = 0;
            for (GgufTensor t : g.tensors()) {
                byte[] src = t.data().toArray(ValueLayout.JAVA_BYTE);
                Matcher f = FUSED.matcher(t.name());
                if (!f.matches()) {
                    String name = hfName(t.name());
                    expected.add(name);
                    TensorInfo e = model.tensorInfo(name, 0);
                    assertEquals(t.dtype(), e.dtype(), name + " keeps its ggml type");
                    assertEquals(List.of(t.shape()[0], t.shape().length > 1 ? t.shape()[1] : -1L)
                            .subList(0, t.rank()), e.shape());
                    assertArrayEquals(src, model.tensor(name).toArray(ValueLayout.JAVA_BYTE), name);
                    continue;
                }
                String proj = switch (f.group(2)) {
                    case "gate" -> "w1";
                    case "up" -> "w3";
                    default -> "w2";
                };
                long n = t.shape()[0];
                assertEquals(3, t.rank());
                int each = (int) (t.byteSize() / n); // the fused tensor's bytes, expert outermost
                for (int x = 0; x < n; x++) {
                    String name = "model.layers." + f.group(1) + ".block_sparse_moe.experts." + x + "." + proj
                            + ".weight";
                    expected.add(name);
                    TensorInfo e = model.tensorInfo(name, 0);
                    assertEquals(t.dtype(), e.dtype(), name);
                    assertEquals(List.of(t.shape()[1], t.shape()[2]), e.shape(), name);
                    assertEquals("expert." + f.group(1) + "." + x, e.group());
                    byte[] rows = java.util.Arrays.copyOfRange(src, x * each, (x + 1) * each);
                    assertArrayEquals(rows, model.tensor(name).toArray(ValueLayout.JAVA_BYTE), name);
                    experts++;
                }
            }
            assertEquals(expected, m.tensors().keySet(), "every tensor, under its Hugging Face name");
            assertEquals(2 * 8 * 3, experts);
            assertEquals(16, m.groups().size());
            for (Map.Entry<String, GroupInfo> e : m.groups().entrySet()) {
                GroupInfo gi = e.getValue();
                assertEquals(0, gi.offset() % 4096, "page aligned");
                assertEquals(List.of("w1", "w3", "w2"), gi.tensors().stream()
                        .map(s -> s.replaceAll(".*\\.(w\\d)\\.weight", "$1")).toList(), e.getKey());
                // the group is one range holding its three tensors
                long end = gi.offset() + gi.size();
                for (String t : gi.tensors()) {
                    TensorInfo ti = model.tensorInfo(t, 0);
                    assertTrue(ti.shard() == gi.shard() && ti.offset() >= gi.offset()
                            && ti.offset() + ti.size() <= end, t + " inside " + e.getKey());
                }
                assertEquals(gi.hash(), Blake3.hashHex(model.group(e.getKey())));
            }
            TokenizerInfo tok = m.tokenizer();
            assertNotNull(tok, "the embedded vocabulary is bundled");
            assertEquals(TokenizerInfo.GGUF_FILE, tok.file());
            assertEquals(g.metadata().string("tokenizer.ggml.model"), tok.tokenizerType());
            assertEquals(g.metadata().optionalArray("tokenizer.ggml.tokens").map(a -> a.size()).orElse(null),
                    tok.vocabSize());
            try (GgufFile t = GgufFile.open(out.resolve(TokenizerInfo.GGUF_FILE))) {
                assertTrue(t.tensors().isEmpty());
                for (String k : g.metadata().keys()) {
                    if (k.startsWith("tokenizer.")) {
                        assertEquals(g.metadata().value(k), t.metadata().value(k), k);
                    }
                }
            }
        }
        ModelVerifier.Report v = ModelVerifier.verify(out, n -> { });
        assertTrue(v.ok(), v.toString());
    }

    @Test
    void deterministicAndTensorParallelInWholeBlocks() throws Exception {
        Path a = tmp.resolve("a");
        Path b = tmp.resolve("b");
        ConvertOptions o = ConvertOptions.defaults().withLayout(Layout.ROW, 2);
        String h1 = ShardConverter.convert(fixture("q8_0"), a, o, ProgressListener.NONE).manifestHash();
        String h2 = ShardConverter.convert(fixture("q8_0"), b, o, ProgressListener.NONE).manifestHash();
        assertEquals(h1, h2, "same input, same bytes");
        try (GgufFile g = GgufFile.open(fixture("q8_0")); ConvertedModel m = ConvertedModel.open(a)) {
            // w1 is column-parallel: rank r holds rows [r*128, (r+1)*128) of expert 5's gate
            GgufTensor gate = g.tensor("blk.1.ffn_gate_exps.weight");
            byte[] src = gate.data().toArray(ValueLayout.JAVA_BYTE);
            int each = (int) (gate.byteSize() / 8);
            int half = each / 2;
            String w1 = "model.layers.1.block_sparse_moe.experts.5.w1.weight";
            for (int rank = 0; rank < 2; rank++) {
                assertArrayEquals(java.util.Arrays.copyOfRange(src, 5 * each + rank * half, 5 * each + (rank + 1) * half),
                        m.tensorSlice(w1, rank).toArray(ValueLayout.JAVA_BYTE));
            }
            // w2 is row-parallel: rank r holds the blocks of columns [r*128, (r+1)*128) of every row
            GgufTensor down = g.tensor("blk.0.ffn_down_exps.weight");
            byte[] d = down.data().toArray(ValueLayout.JAVA_BYTE);
            int rowBytes = (int) (256 / 32 * 34);
            String w2 = "model.layers.0.block_sparse_moe.experts.3.w2.weight";
            byte[] rank1 = m.tensorSlice(w2, 1).toArray(ValueLayout.JAVA_BYTE);
            assertEquals(256 * rowBytes / 2, rank1.length);
            for (int row = 0; row < 256; row++) {
                int from = (int) (3 * down.byteSize() / 8) + row * rowBytes + rowBytes / 2;
                assertArrayEquals(java.util.Arrays.copyOfRange(d, from, from + rowBytes / 2),
                        java.util.Arrays.copyOfRange(rank1, row * rowBytes / 2, (row + 1) * rowBytes / 2), "row " + row);
            }
            assertEquals(List.of(256L, 128L), m.tensorInfo(w2, 1).shape());
        }
        assertTrue(ModelVerifier.verify(a, n -> { }).ok());
    }

    @Test
    void quantisedBlocksAreNeverTransposedOrCut() {
        Path out = tmp.resolve("x");
        var column = assertThrows(ConvertException.class, () -> ShardConverter.convert(fixture("q4_k_m"), out,
                ConvertOptions.defaults().withLayout(Layout.COLUMN, 1), ProgressListener.NONE));
        assertTrue(column.getMessage().startsWith(fixture("q4_k_m").toAbsolutePath().normalize() + ": tensor '"),
                column.getMessage());
        assertTrue(column.getMessage().contains("block-quantised") && column.getMessage().contains("--layout row"),
                column.getMessage());
        // Q4_K rows of 256 elements are one block: two TP ranks would cut it
        var tp = assertThrows(ConvertException.class, () -> ShardConverter.convert(fixture("q4_k_m"), out,
                ConvertOptions.defaults().withLayout(Layout.ROW, 2), ProgressListener.NONE));
        assertTrue(tp.getMessage().contains("not a whole number of") && tp.getMessage().contains("blocks"),
                tp.getMessage());
        assertFalse(tp.getMessage().contains("\n"));
        assertFalse(Files.exists(out), "nothing written");
    }

    /** A tiny qwen3moe GGUF written here (NEOX RoPE, {@code mlp} block, gate_proj/up_proj/down_proj naming). */
    @Test
    void qwen3MoeNamesAndF16ExpertsFromAWrittenFile() throws Exception {
        Path f = tmp.resolve("qwen.gguf");
        int e = 3;
        int h = 64;
        int ff = 32;
        java.util.Random rnd = new java.util.Random(9);
        byte[] gate = new byte[e * ff * h * 2];
        byte[] down = new byte[e * h * ff * 2];
        byte[] q = new byte[h * h * 2];
        rnd.nextBytes(gate);
        rnd.nextBytes(down);
        rnd.nextBytes(q);
        io.strata.storage.gguf.GgufWriter w = new io.strata.storage.gguf.GgufWriter()
                .putString("general.architecture", "qwen3moe");
        for (String[] k : new String[][]{{"block_count", "1"}, {"embedding_length", "" + h},
                {"expert_feed_forward_length", "" + ff}, {"attention.head_count", "4"},
                {"attention.head_count_kv", "2"}, {"attention.key_length", "16"}, {"expert_count", "" + e},
                {"expert_used_count", "2"}, {"vocab_size", "8"}}) {
            w.putUint32("qwen3moe." + k[0], Long.parseLong(k[1]));
        }
        w.putFloat32("qwen3moe.attention.layer_norm_rms_epsilon", 1e-6f)
                .tensor("blk.0.attn_q.weight", io.strata.core.model.DType.F16, new long[]{h, h},
                        java.lang.foreign.MemorySegment.ofArray(q))
                .tensor("blk.0.ffn_gate_exps.weight", io.strata.core.model.DType.F16, new long[]{e, ff, h},
                        java.lang.foreign.MemorySegment.ofArray(gate))
                .tensor("blk.0.ffn_down_exps.weight", io.strata.core.model.DType.F16, new long[]{e, h, ff},
                        java.lang.foreign.MemorySegment.ofArray(down))
                .write(f);
        Path out = tmp.resolve("q");
        ShardConverter.convert(f, out, ConvertOptions.defaults(), ProgressListener.NONE);
        try (ConvertedModel m = ConvertedModel.open(out)) {
            assertEquals("qwen3_moe", m.manifest().config().path("model_type").asText());
            assertFalse(m.manifest().config().has("rope_interleaved"), "qwen3moe is NEOX RoPE, stored unpermuted");
            assertEquals("Qwen3MoeForCausalLM", m.manifest().architecture());
            assertNull(m.manifest().tokenizer(), "no vocabulary in the file, none bundled");
            assertArrayEquals(q, m.tensor("model.layers.0.self_attn.q_proj.weight").toArray(ValueLayout.JAVA_BYTE));
            for (int x = 0; x < e; x++) {
                assertArrayEquals(java.util.Arrays.copyOfRange(gate, x * ff * h * 2, (x + 1) * ff * h * 2),
                        m.tensor("model.layers.0.mlp.experts." + x + ".gate_proj.weight").toArray(ValueLayout.JAVA_BYTE));
                assertArrayEquals(java.util.Arrays.copyOfRange(down, x * h * ff * 2, (x + 1) * h * ff * 2),
                        m.tensor("model.layers.0.mlp.experts." + x + ".down_proj.weight").toArray(ValueLayout.JAVA_BYTE));
                assertEquals(List.of((long) h, (long) ff),
                        m.tensorInfo("model.layers.0.mlp.experts." + x + ".down_proj.weight", 0).shape());
            }
            assertEquals(e, m.manifest().groups().size());
            assertEquals(e, m.manifest().moeConfig().numExperts());
        }
        // the column layout transposes F16 experts like any float tensor
        Path col = tmp.resolve("c");
        ShardConverter.convert(f, col, ConvertOptions.defaults().withLayout(Layout.COLUMN, 1), ProgressListener.NONE);
        try (ConvertedModel m = ConvertedModel.open(col)) {
            TensorInfo ti = m.tensorInfo("model.layers.0.mlp.experts.1.gate_proj.weight", 0);
            assertEquals(List.of((long) h, (long) ff), ti.shape());
            byte[] stored = m.tensor("model.layers.0.mlp.experts.1.gate_proj.weight").toArray(ValueLayout.JAVA_BYTE);
            int base = ff * h * 2;
            for (int r = 0; r < ff; r++) {
                for (int c = 0; c < h; c++) {
                    int from = base + (r * h + c) * 2;
                    int to = (c * ff + r) * 2;
                    assertEquals(gate[from], stored[to]);
                    assertEquals(gate[from + 1], stored[to + 1]);
                }
            }
        }
    }

    @Test
    void twoTensorsForOneNameAreRefused() throws Exception {
        Path f = tmp.resolve("dup.gguf");
        byte[] a = new byte[64 * 4];
        io.strata.storage.gguf.GgufWriter w = new io.strata.storage.gguf.GgufWriter()
                .putString("general.architecture", "llama");
        for (String[] k : new String[][]{{"block_count", "1"}, {"embedding_length", "8"},
                {"feed_forward_length", "16"}, {"attention.head_count", "2"}, {"vocab_size", "4"}}) {
            w.putUint32("llama." + k[0], Long.parseLong(k[1]));
        }
        w.putFloat32("llama.attention.layer_norm_rms_epsilon", 1e-5f)
                .tensor("blk.0.attn_q.weight", io.strata.core.model.DType.F32, new long[]{8, 8},
                        java.lang.foreign.MemorySegment.ofArray(a))
                .tensor("model.layers.0.self_attn.q_proj.weight", io.strata.core.model.DType.F32, new long[]{8, 8},
                        java.lang.foreign.MemorySegment.ofArray(a.clone()))
                .write(f);
        Path out = tmp.resolve("d");
        var e = assertThrows(ConvertException.class,
                () -> ShardConverter.convert(f, out, ConvertOptions.defaults(), ProgressListener.NONE));
        assertEquals(f.toAbsolutePath().normalize() + ": tensor 'model.layers.0.self_attn.q_proj.weight' and tensor"
                + " 'blk.0.attn_q.weight' would both be stored as 'model.layers.0.self_attn.q_proj.weight'",
                e.getMessage());
        assertFalse(Files.exists(out));
    }
}
