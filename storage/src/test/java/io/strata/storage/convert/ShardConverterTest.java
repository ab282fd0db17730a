package io.strata.storage.convert;

import io.strata.testdata.TestData;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.core.manifest.GroupInfo;
import io.strata.core.manifest.Manifest;
import io.strata.core.manifest.ShardInfo;
import io.strata.core.manifest.TensorInfo;
import io.strata.core.model.DType;
import io.strata.core.model.Layout;
import io.strata.core.model.ModelFamily;
import io.strata.core.model.Role;
import io.strata.storage.model.ConvertedModel;
import io.strata.storage.synth.SyntheticCheckpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ShardConverterTest {
    static final Path FIXTURE = TestData.dir("fixtures/tiny-mixtral-f32");

    @TempDir
    Path tmp;

    static ConvertOptions opts(Layout layout, int tp) {
        return ConvertOptions.defaults().withLayout(layout, tp);
    }

    static Stream<Arguments> layouts() {
        return Stream.of(Arguments.of(Layout.ROW, 1), Arguments.of(Layout.COLUMN, 1), Arguments.of(Layout.COLUMN, 2),
                Arguments.of(Layout.COLUMN, 4), Arguments.of(Layout.ROW, 2));
    }

    @ParameterizedTest
    @MethodSource("layouts")
    void fixtureRoundTripsByteForByte(Layout layout, int tp) {
        Path out = tmp.resolve("out");
        ShardConverter.convert(FIXTURE, out, opts(layout, tp).withShardSize(256 << 10), ProgressListener.NONE);
        RoundTrip.assertRoundTrip(FIXTURE, out);
    }

    static Stream<Arguments> generated() {
        return Stream.of(
                Arguments.of(ModelFamily.MIXTRAL, DType.BF16, Layout.ROW, 1),
                Arguments.of(ModelFamily.MIXTRAL, DType.F16, Layout.COLUMN, 2),
                Arguments.of(ModelFamily.MIXTRAL, DType.BF16, Layout.COLUMN, 4),
                Arguments.of(ModelFamily.QWEN3_MOE, DType.BF16, Layout.COLUMN, 1),
                Arguments.of(ModelFamily.QWEN3_MOE, DType.F16, Layout.ROW, 1),
                Arguments.of(ModelFamily.QWEN3_MOE, DType.F32, Layout.COLUMN, 4));
    }

    /** Odd sizes (not multiples of the 64-element tile) exercise the transpose edges. */
    @ParameterizedTest
    @MethodSource("generated")
    void generatedCheckpointsRoundTripByteForByte(ModelFamily family, DType dtype, Layout layout, int tp)
            throws Exception {
        Path src = tmp.resolve("src");
        SyntheticCheckpoint.builder().family(family).dtype(dtype).hidden(96).intermediate(200).heads(4).kvHeads(2)
                .headDim(24).experts(5).vocab(300).layers(2).shards(3).write(src);
        Path out = tmp.resolve("out");
        ShardConverter.convert(src, out, opts(layout, tp).withShardSize(128 << 10).withChunkSize(16 << 10),
                ProgressListener.NONE);
        RoundTrip.assertRoundTrip(src, out);
    }

    /**
     * A 9 MB embedding (row: written straight from the source mapping) and a 9 MB lm_head (column: transposed in
     * several bands of the 8 MiB staging buffer) round-trip too.
     */
    @Test
    void tensorsLargerThanTheStagingBuffer() throws Exception {
        Path src = tmp.resolve("big");
        SyntheticCheckpoint.builder().vocab(36000).hidden(64).intermediate(64).layers(1).experts(2).topK(1)
                .shards(1).write(src);
        assertTrue(36000L * 64 * 4 > ShardWriter.STAGING);
        Path out = tmp.resolve("out");
        ShardConverter.convert(src, out, opts(Layout.COLUMN, 1), ProgressListener.NONE);
        RoundTrip.assertRoundTrip(src, out);
    }

    @Test
    void manifestDescribesRolesGroupsAndMoeConfig() {
        Path out = tmp.resolve("out");
        var r = ShardConverter.convert(FIXTURE, out, opts(Layout.COLUMN, 2), ProgressListener.NONE);
        Manifest m = r.manifest();
        assertEquals("MixtralForCausalLM", m.architecture());
        assertEquals("mixtral", m.config().path("model_type").asText(), "config kept verbatim");
        assertEquals(8, m.groups().size());
        assertEquals(4, m.moeConfig().numExperts());
        assertEquals(2, m.moeConfig().numExpertsPerToken());
        assertEquals(2, m.moeConfig().numMoeLayers());
        assertEquals("mixtral", m.moeConfig().expertFormat());
        assertEquals(Role.EMBEDDING, m.tensor("model.embed_tokens.weight").role());
        assertEquals(Layout.ROW, m.tensor("model.embed_tokens.weight").layout(), "embedding rows stay gatherable");
        assertEquals(Role.LM_HEAD, m.tensor("lm_head.weight").role());
        assertEquals(Layout.COLUMN, m.tensor("lm_head.weight").layout());
        assertEquals(Role.NORM, m.tensor("model.norm.weight").role());
        assertEquals(Role.ROUTER, m.tensor("model.layers.1.block_sparse_moe.gate.weight").role());
        // q_proj [64 out, 64 in] column-parallel: stored [in, out/2], cut along stored dim 1
        List<TensorInfo> q = m.tensors().get("model.layers.0.self_attn.q_proj.weight");
        assertEquals(2, q.size());
        assertEquals(1, q.get(0).sliceDim());
        assertEquals(List.of(64L, 32L), q.get(1).shape());
        // o_proj row-parallel: cut along in = stored dim 0
        assertEquals(0, m.tensors().get("model.layers.0.self_attn.o_proj.weight").get(0).sliceDim());
        // w2 [64 out, 128 in] row-parallel: stored [128/2, 64]
        List<TensorInfo> w2 = m.tensors().get("model.layers.1.block_sparse_moe.experts.2.w2.weight");
        assertEquals(List.of(64L, 64L), w2.get(0).shape());
        assertEquals(0, w2.get(0).sliceDim());
        GroupInfo g = m.groups().get("expert.1.2");
        assertEquals(List.of("model.layers.1.block_sparse_moe.experts.2.w1.weight",
                "model.layers.1.block_sparse_moe.experts.2.w3.weight",
                "model.layers.1.block_sparse_moe.experts.2.w2.weight"), g.tensors());
        // rank-major inside the group: rank 0's w1, w3, w2 come before any rank-1 slice
        long rank0End = Stream.of("w1", "w3", "w2").map(n -> m.tensors()
                .get("model.layers.1.block_sparse_moe.experts.2." + n + ".weight").get(0))
                .mapToLong(t -> t.offset() + t.size()).max().orElseThrow();
        long rank1Start = Stream.of("w1", "w3", "w2").map(n -> m.tensors()
                .get("model.layers.1.block_sparse_moe.experts.2." + n + ".weight").get(1))
                .mapToLong(TensorInfo::offset).min().orElseThrow();
        assertTrue(rank0End <= rank1Start);
        assertEquals(3 * 128 * 64 * 4, m.moeConfig().expertBytes());
        assertEquals(m.shards().stream().mapToLong(ShardInfo::size).sum(), m.totalSize());
        assertEquals("F32", m.quantization());
        // dense shards come first: no shard holds both an expert tensor and a dense one
        for (ShardInfo s : m.shards()) {
            long kinds = m.tensors().values().stream().flatMap(List::stream).filter(t -> t.shard() == s.index())
                    .map(t -> t.role() == Role.EXPERT).distinct().count();
            assertEquals(1, kinds, "shard " + s.index());
        }
    }

    @Test
    void qwenExpertsGroupGateUpDownAndRoleQkNorms() throws Exception {
        Path src = tmp.resolve("q");
        SyntheticCheckpoint.builder().family(ModelFamily.QWEN3_MOE).dtype(DType.BF16).shards(2).write(src);
        var m = ShardConverter.convert(src, tmp.resolve("out"), ConvertOptions.defaults(), ProgressListener.NONE)
                .manifest();
        assertEquals(List.of("model.layers.0.mlp.experts.1.gate_proj.weight",
                "model.layers.0.mlp.experts.1.up_proj.weight", "model.layers.0.mlp.experts.1.down_proj.weight"),
                m.groups().get("expert.0.1").tensors());
        assertEquals(Role.NORM, m.tensor("model.layers.0.self_attn.k_norm.weight").role());
        assertEquals(Role.ROUTER, m.tensor("model.layers.1.mlp.gate.weight").role());
        assertEquals("qwen3_moe", m.moeConfig().expertFormat());
        assertEquals(4, m.moeConfig().numExperts());
        assertEquals("BF16", m.quantization());
    }

    @Test
    void shardsRespectTheSizeAndOversizedUnitsGetTheirOwnShard() throws Exception {
        Path src = tmp.resolve("src");
        // embed/lm_head: 1000 x 64 x 4 = 256000 bytes, bigger than the 64 KiB shards; experts 3 x 32 KiB = 96 KiB
        SyntheticCheckpoint.builder().vocab(1000).write(src);
        long shardSize = 64 << 10;
        Manifest m = ShardConverter.convert(src, tmp.resolve("out"), ConvertOptions.defaults()
                .withShardSize(shardSize), ProgressListener.NONE).manifest();
        for (ShardInfo s : m.shards()) {
            long entries = m.tensors().values().stream().flatMap(List::stream).filter(t -> t.shard() == s.index())
                    .count();
            long groups = m.groups().values().stream().filter(g -> g.shard() == s.index()).count();
            assertTrue(s.size() <= shardSize || entries == 1 || groups == 1,
                    "shard " + s.index() + " of " + s.size() + " bytes holds " + entries + " tensors");
        }
        int embShard = m.tensor("model.embed_tokens.weight").shard();
        assertEquals(1, m.tensors().values().stream().flatMap(List::stream).filter(t -> t.shard() == embShard).count());
        RoundTrip.assertRoundTrip(src, tmp.resolve("out"));
    }

    @Test
    void outputIsDeterministic() throws Exception {
        var a = ShardConverter.convert(FIXTURE, tmp.resolve("a"), opts(Layout.COLUMN, 2).withModelId("x"),
                ProgressListener.NONE);
        var b = ShardConverter.convert(FIXTURE, tmp.resolve("b"), opts(Layout.COLUMN, 2).withModelId("x"),
                ProgressListener.NONE);
        assertEquals(a.manifestHash(), b.manifestHash());
        assertArrayEquals(Files.readAllBytes(tmp.resolve("a/manifest.json")),
                Files.readAllBytes(tmp.resolve("b/manifest.json")));
        for (ShardInfo s : a.manifest().shards()) {
            assertEquals(-1, Files.mismatch(tmp.resolve("a").resolve(s.filename()), tmp.resolve("b").resolve(s.filename())));
        }
        try (ConvertedModel m = ConvertedModel.open(tmp.resolve("a"))) {
            assertEquals(a.manifestHash(), m.manifestHash());
        }
    }

    @Test
    void existingOutputIsRefusedUnlessForced() throws Exception {
        Path out = tmp.resolve("out");
        // a previous output (--force replaces nothing else: see AtomicOutputTest)
        ShardConverter.convert(FIXTURE, out, ConvertOptions.defaults(), ProgressListener.NONE);
        Files.writeString(out.resolve("keep.txt"), "mine");
        var e = assertThrows(ConvertException.class,
                () -> ShardConverter.convert(FIXTURE, out, ConvertOptions.defaults(), ProgressListener.NONE));
        assertTrue(e.getMessage().contains("already exists") && e.getMessage().contains("--force"), e.getMessage());
        assertTrue(Files.exists(out.resolve("keep.txt")));
        ShardConverter.convert(FIXTURE, out, ConvertOptions.defaults().withForce(true), ProgressListener.NONE);
        assertFalse(Files.exists(out.resolve("keep.txt")));
        assertTrue(Files.exists(out.resolve("manifest.json")));
        assertNoLeftovers();
    }

    @Test
    void tpThatDoesNotDivideIsAClearErrorAndLeavesNothing() throws Exception {
        Path out = tmp.resolve("out");
        var e = assertThrows(ConvertException.class,
                () -> ShardConverter.convert(FIXTURE, out, opts(Layout.COLUMN, 3), ProgressListener.NONE));
        assertTrue(e.getMessage().contains("not divisible by --tp 3") && e.getMessage().contains("tensor '"),
                e.getMessage());
        assertFalse(Files.exists(out));
        assertNoLeftovers();
    }

    @Test
    void singleSafetensorsFileIsASource() throws Exception {
        Path src = tmp.resolve("one");
        SyntheticCheckpoint.builder().shards(1).write(src);
        var r = ShardConverter.convert(src.resolve("model.safetensors"), tmp.resolve("out"), ConvertOptions.defaults(),
                ProgressListener.NONE);
        assertEquals("model", r.manifest().modelId());
        assertNotNull(r.manifest().moeConfig());
        RoundTrip.assertRoundTrip(src.resolve("model.safetensors"), tmp.resolve("out"));
    }

    /** Scalars, empty tensors, I64 and a tensor with no known role survive a column/TP conversion. */
    @Test
    void oddTensorsRoundTrip() throws Exception {
        Path src = Files.createDirectories(tmp.resolve("odd"));
        io.strata.storage.safetensors.SafetensorsBytes.write(src.resolve("model.safetensors"),
                "{\"model.norm.weight\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                        + "\"step\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[16,24]},"
                        + "\"empty.weight\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[24,24]},"
                        + "\"x.self_attn.q_proj.weight\":{\"dtype\":\"F32\",\"shape\":[4,2],\"data_offsets\":[24,56]},"
                        + "\"conv.weight\":{\"dtype\":\"BF16\",\"shape\":[2,2,2],\"data_offsets\":[56,72]}}", 72);
        Path out = tmp.resolve("out");
        Manifest m = ShardConverter.convert(src, out, opts(Layout.COLUMN, 2), ProgressListener.NONE).manifest();
        assertNull(m.moeConfig(), "no experts, no moeConfig");
        assertEquals(Role.OTHER, m.tensor("step").role());
        assertEquals(Role.OTHER, m.tensor("conv.weight").role());
        assertEquals(2, m.tensors().get("x.self_attn.q_proj.weight").size());
        RoundTrip.assertRoundTrip(src, out);
    }

    @Test
    void progressCountsEveryTensorByte() {
        long[] seen = new long[3];
        ShardConverter.convert(FIXTURE, tmp.resolve("out"), opts(Layout.COLUMN, 2), new ProgressListener() {
            @Override
            public void start(long totalBytes, int shards) {
                seen[0] = totalBytes;
            }

            @Override
            public void advance(long bytes, String tensor) {
                seen[1] += bytes;
            }

            @Override
            public void finish(boolean success) {
                seen[2] = success ? 1 : -1;
            }
        });
        assertEquals(1019136, seen[0], "the fixture's total_size");
        assertEquals(seen[0], seen[1]);
        assertEquals(1, seen[2]);
    }

    @Test
    void sourceInsideOutputIsRefused() {
        var e = assertThrows(ConvertException.class, () -> ShardConverter.convert(FIXTURE, FIXTURE.getParent(),
                ConvertOptions.defaults().withForce(true), ProgressListener.NONE));
        assertTrue(e.getMessage().contains("would contain"), e.getMessage());
    }

    private void assertNoLeftovers() throws Exception {
        try (var s = Files.list(tmp)) {
            assertEquals(List.of(), s.filter(p -> p.getFileName().toString().startsWith(".")).toList(),
                    "temporary directories left behind");
        }
    }
}
