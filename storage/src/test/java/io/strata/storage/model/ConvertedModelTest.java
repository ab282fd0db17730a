package io.strata.storage.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.core.hash.Blake3;
import io.strata.core.manifest.GroupInfo;
import io.strata.core.manifest.Manifest;
import io.strata.core.manifest.ManifestCodec;
import io.strata.core.manifest.ManifestException;
import io.strata.core.manifest.MoeConfig;
import io.strata.core.manifest.ShardInfo;
import io.strata.core.manifest.TensorInfo;
import io.strata.core.model.DType;
import io.strata.core.model.ExpertId;
import io.strata.core.model.Layout;
import io.strata.core.model.Role;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A hand-built manifest over random shard bytes: every view must be exactly the bytes the manifest points at. */
class ConvertedModelTest {
    @TempDir
    Path dir;
    byte[] shard0;
    byte[] shard1;

    @BeforeEach
    void write() throws Exception {
        Random r = new Random(3);
        shard0 = new byte[3100];
        shard1 = new byte[8192 + 512];
        r.nextBytes(shard0);
        r.nextBytes(shard1);
        Files.write(dir.resolve("shard_00000.bin"), shard0);
        Files.write(dir.resolve("shard_00001.bin"), shard1);
        long chunk = 4096;
        List<ShardInfo> shards = List.of(shardInfo(0, shard0, chunk), shardInfo(1, shard1, chunk));
        Map<String, List<TensorInfo>> tensors = new LinkedHashMap<>();
        tensors.put("norm.weight", List.of(new TensorInfo(0, 64, 256, List.of(64L), DType.F32, Role.NORM, null,
                Layout.ROW, null, null, null, null, null)));
        // a [16, 32] F32 weight stored transposed [32, 16] in two TP slices of [32, 8] (1024 bytes each)
        List<TensorInfo> slices = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            slices.add(new TensorInfo(0, 1024 + i * 1024, 1024, List.of(32L, 8L), DType.F32, Role.MATMUL, null,
                    Layout.COLUMN, List.of(16L, 32L), 1, i, 2, null));
        }
        tensors.put("q_proj.weight", slices);
        tensors.put("experts.0.w1.weight", List.of(new TensorInfo(1, 4096, 2048, List.of(32L, 16L), DType.F32,
                Role.EXPERT, "expert.0.0", Layout.ROW, null, null, null, null, null)));
        tensors.put("experts.0.w2.weight", List.of(new TensorInfo(1, 6144, 2048, List.of(16L, 32L), DType.F32,
                Role.EXPERT, "expert.0.0", Layout.ROW, null, null, null, null, null)));
        String groupHash = Blake3.hashHex(Arrays.copyOfRange(shard1, 4096, 8192));
        Map<String, GroupInfo> groups = Map.of("expert.0.0", new GroupInfo("expert", 0, 0, List.of(1), 4096, 4096,
                List.of("experts.0.w1.weight", "experts.0.w2.weight"), groupHash));
        Manifest m = new Manifest(1, "t", "transformer", "X", null, "F32", "blake3", chunk, Layout.ROW,
                shard0.length + shard1.length, new MoeConfig(1, 1, "mixtral", 4096, 1), shards, tensors, groups);
        ManifestCodec.write(m, dir.resolve("manifest.json"));
    }

    static ShardInfo shardInfo(int i, byte[] b, long chunk) {
        List<String> chunks = new ArrayList<>();
        for (int off = 0; off < b.length; off += (int) chunk) {
            chunks.add(Blake3.hashHex(Arrays.copyOfRange(b, off, (int) Math.min(b.length, off + chunk))));
        }
        return new ShardInfo(i, String.format("shard_%05d.bin", i), b.length, Blake3.hashHex(b), chunks);
    }

    static byte[] bytes(MemorySegment s) {
        return s.toArray(ValueLayout.JAVA_BYTE);
    }

    @Test
    void viewsAreTheManifestsByteRanges() {
        try (ConvertedModel m = ConvertedModel.open(dir)) {
            assertArrayEquals(Arrays.copyOfRange(shard0, 64, 320), bytes(m.tensor("norm.weight")));
            assertArrayEquals(Arrays.copyOfRange(shard0, 2048, 3072), bytes(m.tensorSlice("q_proj.weight", 1)));
            assertArrayEquals(Arrays.copyOfRange(shard0, 1024, 2048), bytes(m.tensorSlice("q_proj.weight", 0)));
            // a replicated tensor is the whole tensor for any rank
            assertArrayEquals(bytes(m.tensor("norm.weight")), bytes(m.tensorSlice("norm.weight", 3)));
            assertArrayEquals(Arrays.copyOfRange(shard1, 4096, 8192), bytes(m.expertGroup(new ExpertId(0, 0))));
            assertArrayEquals(Arrays.copyOfRange(shard1, 6144, 8192), bytes(m.tensor("experts.0.w2.weight")));
            assertArrayEquals(shard1, bytes(m.shardSegment(1)));
            assertEquals(m.manifest().groups().get("expert.0.0").hash(), Blake3.hashHex(m.group("expert.0.0")));
        }
    }

    @Test
    void manifestHashIsBlake3OfTheFile() throws Exception {
        try (ConvertedModel m = ConvertedModel.open(dir)) {
            assertEquals(Blake3.hashHex(Files.readAllBytes(dir.resolve("manifest.json"))), m.manifestHash());
            assertEquals(64, m.manifestHash().length());
        }
    }

    @Test
    void clearErrorsForUnknownNamesAndSlices() {
        try (ConvertedModel m = ConvertedModel.open(dir)) {
            assertTrue(assertThrows(ManifestException.class, () -> m.tensor("nope")).getMessage().contains("nope"));
            assertTrue(assertThrows(ManifestException.class, () -> m.tensor("q_proj.weight")).getMessage()
                    .contains("2 TP slices"));
            assertTrue(assertThrows(ManifestException.class, () -> m.tensorSlice("q_proj.weight", 2)).getMessage()
                    .contains("no slice 2"));
            assertThrows(ManifestException.class, () -> m.group("expert.9.9"));
            assertThrows(ManifestException.class, () -> m.shardSegment(2));
        }
    }

    @Test
    void segmentsAreUnreadableAfterClose() {
        ConvertedModel m = ConvertedModel.open(dir);
        MemorySegment s = m.tensor("norm.weight");
        m.close();
        assertThrows(IllegalStateException.class, () -> s.get(ValueLayout.JAVA_BYTE, 0));
        assertThrows(IllegalStateException.class, () -> m.tensor("norm.weight"));
    }

    @Test
    void missingOrResizedShardIsNamed() throws Exception {
        Files.write(dir.resolve("shard_00001.bin"), Arrays.copyOf(shard1, 100));
        var e = assertThrows(ManifestException.class, () -> ConvertedModel.open(dir));
        assertTrue(e.getMessage().contains("shard_00001.bin") && e.getMessage().contains("100 bytes"), e.getMessage());
        Files.delete(dir.resolve("shard_00001.bin"));
        e = assertThrows(ManifestException.class, () -> ConvertedModel.open(dir));
        assertTrue(e.getMessage().contains("shard_00001.bin") && e.getMessage().contains("does not exist"),
                e.getMessage());
    }

    /** A DOPPLER manifest may split a tensor into spans across shards; there is no single view of it. */
    @Test
    void spannedTensorIsAClearError() throws Exception {
        Manifest m = ManifestCodec.read(dir);
        Map<String, List<TensorInfo>> tensors = new LinkedHashMap<>(m.tensors());
        tensors.put("big", List.of(new TensorInfo(0, 0, 3600, List.of(900L), DType.F32, Role.EMBEDDING, null, null,
                null, null, null, null, List.of(new io.strata.core.manifest.Span(0, 3072, 28),
                new io.strata.core.manifest.Span(1, 0, 3572)))));
        Manifest withSpans = new Manifest(1, "t", null, null, null, null, "blake3", m.chunkSize(), null,
                m.totalSize(), m.moeConfig(), m.shards(), tensors, m.groups());
        ManifestCodec.write(withSpans, dir.resolve("manifest.json"));
        try (ConvertedModel cm = ConvertedModel.open(dir)) {
            var e = assertThrows(ManifestException.class, () -> cm.tensor("big"));
            assertTrue(e.getMessage().contains("'big'") && e.getMessage().contains("spans"), e.getMessage());
        }
    }

    @Test
    void missingManifestIsNamed() throws Exception {
        Files.delete(dir.resolve("manifest.json"));
        var e = assertThrows(ManifestException.class, () -> ConvertedModel.open(dir));
        assertTrue(e.getMessage().contains("manifest.json"), e.getMessage());
    }
}
