package io.strata.storage.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.strata.core.manifest.Manifest;
import io.strata.core.manifest.ManifestCodec;
import io.strata.core.manifest.Span;
import io.strata.core.manifest.TensorInfo;
import io.strata.testdata.TestData;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shards DOPPLER 0.5.1 wrote, read and verified through Strata: every tensor equals the bytes an independent
 * reading of the files here gives (spans concatenated), {@code verify} passes on the untouched artifacts and names
 * the tensor and shard when one byte is flipped, reads refuse damaged tensors, and each granularity of check (block
 * Merkle roots, whole-shard SHA-256, DOPPLER's unverifiable blake3) behaves as documented.
 */
class DopplerShardsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> WITH_SHARDS = List.of("tiny-mixtral-f16", "tiny-mixtral-q4k",
            "tiny-mixtral-f32-tok", "tiny-mixtral-f16-blake3");
    private static final String SPLIT = "model.layers.1.self_attn.q_proj.weight";
    private static final String EXPERT = "model.layers.1.block_sparse_moe.experts.2.w3.weight";

    @TempDir
    Path tmp;

    private static Path fixture(String name) {
        return TestData.dir("fixtures/doppler").resolve(name);
    }

    /** The tensor's bytes as the manifest's raw JSON and the shard files say, read without Strata's code. */
    private static Map<String, byte[]> independentTensors(Path dir) throws IOException {
        JsonNode raw = JSON.readTree(dir.resolve("manifest.json").toFile());
        List<byte[]> shards = new ArrayList<>();
        for (JsonNode s : raw.get("shards")) {
            shards.add(Files.readAllBytes(dir.resolve(s.get("filename").asText())));
        }
        Map<String, byte[]> out = new java.util.LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : raw.get("tensors").properties()) {
            JsonNode t = e.getValue();
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            for (JsonNode sp : t.has("spans") ? t.get("spans") : JSON.createArrayNode().add(t)) {
                int shard = (sp.has("shardIndex") ? sp.get("shardIndex") : sp.get("shard")).asInt();
                b.write(shards.get(shard), sp.get("offset").asInt(), sp.get("size").asInt());
            }
            out.put(e.getKey(), b.toByteArray());
        }
        return out;
    }

    private static byte[] readThroughStrata(ShardReader r, TensorInfo t, boolean verify) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment dst = a.allocate(Math.max(1, t.size())).asSlice(0, t.size());
            long at = 0;
            for (Span s : t.ranges()) { // span by span, as the runtime's ByteFetcher reads
                MemorySegment part = dst.asSlice(at, s.size());
                if (verify) {
                    r.read(s.shardIndex(), s.offset(), part);
                } else {
                    r.readTrusted(s.shardIndex(), s.offset(), part);
                }
                at += s.size();
            }
            return dst.toArray(ValueLayout.JAVA_BYTE);
        }
    }

    @Test
    void everyTensorReadsAsTheBytesDopplerWrote() throws IOException {
        for (String a : WITH_SHARDS) {
            Path dir = fixture(a);
            Map<String, byte[]> want = independentTensors(dir);
            try (ConvertedModel model = ConvertedModel.open(dir)) {
                Manifest m = model.manifest();
                for (boolean verify : new boolean[]{true, false}) {
                    try (ShardReader r = ShardReader.open(dir, m)) {
                        for (Map.Entry<String, byte[]> e : want.entrySet()) {
                            assertArrayEquals(e.getValue(), readThroughStrata(r, m.tensor(e.getKey()), verify),
                                    a + " " + e.getKey());
                        }
                        if (verify) {
                            long total = want.values().stream().mapToLong(b -> b.length).sum();
                            assertEquals(total, r.verifiedBytes(), a + ": each tensor checked once, by its root");
                        }
                    }
                }
            }
        }
    }

    @Test
    void readingHalfOfASplitTensorChecksAndServesTheWholeOfIt() throws IOException {
        Path dir = fixture("tiny-mixtral-f16");
        byte[] want = independentTensors(dir).get(SPLIT);
        Manifest m = ManifestCodec.read(dir);
        List<Span> spans = m.tensor(SPLIT).ranges();
        try (ShardReader r = ShardReader.open(dir, m); Arena a = Arena.ofConfined()) {
            Span second = spans.get(1);
            MemorySegment dst = a.allocate(second.size());
            r.read(second.shardIndex(), second.offset(), dst);
            assertArrayEquals(java.util.Arrays.copyOfRange(want, (int) spans.get(0).size(), want.length),
                    dst.toArray(ValueLayout.JAVA_BYTE));
            assertEquals(want.length, r.verifiedBytes(), "the whole tensor was hashed, both shards' parts");
        }
    }

    @Test
    void untouchedArtifactsVerify() throws IOException {
        for (String a : WITH_SHARDS) {
            ModelVerifier.Report r = ModelVerifier.verify(fixture(a), x -> { });
            assertTrue(r.ok(), a + ": " + r.problems() + " " + r.notes());
            assertEquals(41, r.tensors(), a);
        }
        ModelVerifier.Report b3 = ModelVerifier.verify(fixture("tiny-mixtral-f16-blake3"), x -> { });
        assertEquals(1, b3.notes().size());
        assertTrue(b3.notes().getFirst().contains("DOPPLER's blake3, which is not standard BLAKE3"), b3.notes().getFirst());
        assertTrue(b3.notes().getFirst().contains("every byte of it lies in tensors checked"));
    }

    private Path copy(String artifact) throws IOException {
        Path out = Files.createDirectories(tmp.resolve(artifact + "-" + System.nanoTime()));
        try (var files = Files.list(fixture(artifact))) {
            for (Path f : files.toList()) {
                Files.copy(f, out.resolve(f.getFileName()));
            }
        }
        return out;
    }

    /** A copy of {@code artifact} as if DOPPLER had written it without integrityExtensions (no block Merkle roots). */
    private Path copyWithoutIntegrityExtensions(String artifact) throws IOException {
        Path dir = copy(artifact);
        ObjectNode raw = (ObjectNode) JSON.readTree(dir.resolve("manifest.json").toFile());
        raw.remove("integrityExtensions");
        JSON.writeValue(dir.resolve("manifest.json").toFile(), raw);
        return dir;
    }

    private static void flip(Path file, long at) throws IOException {
        byte[] b = Files.readAllBytes(file);
        b[(int) at] ^= 0x10;
        Files.write(file, b);
    }

    @Test
    void aFlippedByteIsNamedByTensorAndShard() throws IOException {
        for (String a : WITH_SHARDS) {
            Path dir = copy(a);
            Manifest m = ManifestCodec.read(dir);
            Span last = m.tensor(SPLIT).ranges().getLast();
            flip(dir.resolve(m.shard(last.shardIndex()).filename()), last.offset() + last.size() - 1);
            ModelVerifier.Report r = ModelVerifier.verify(dir, x -> { });
            assertFalse(r.ok(), a);
            List<String> lines = r.problems().stream().map(Object::toString).toList();
            assertTrue(lines.stream().anyMatch(l -> l.startsWith("tensor '" + SPLIT + "'")
                    && l.endsWith("block Merkle root mismatch")), a + ": " + lines);
            boolean sha = m.hashAlgorithm().equals(Manifest.HASH_SHA256);
            assertEquals(sha, lines.stream().anyMatch(l -> l.startsWith("shard " + last.shardIndex() + " (")
                    && l.endsWith("whole-file sha256 mismatch")), a + ": " + lines);
            assertEquals(sha ? 2 : 1, lines.size(), a + ": only the damaged tensor (and its shard): " + lines);
            try (ShardReader reader = ShardReader.open(dir, m)) {
                CorruptShardException e = assertThrows(CorruptShardException.class,
                        () -> readThroughStrata(reader, m.tensor(SPLIT), true));
                assertEquals(SPLIT, e.tensor());
                assertTrue(e.getMessage().contains("tensor '" + SPLIT + "'"), e.getMessage());
                // the other tensors are intact and still read
                readThroughStrata(reader, m.tensor(EXPERT), true);
                readThroughStrata(reader, m.tensor(SPLIT), false);
            }
        }
    }

    /** A manifest written without integrityExtensions: the whole shard is the unit. */
    @Test
    void withoutBlockMerkleTheWholeShardIsChecked() throws IOException {
        Path dir = copyWithoutIntegrityExtensions("tiny-mixtral-f16");
        Map<String, byte[]> want = independentTensors(dir);
        Manifest m = ManifestCodec.read(dir);
        try (ShardReader r = ShardReader.open(dir, m)) {
            assertArrayEquals(want.get(EXPERT), readThroughStrata(r, m.tensor(EXPERT), true));
            assertEquals(m.shard(1).size(), r.verifiedBytes(), "the expert's shard hashed once, whole");
            assertArrayEquals(want.get(SPLIT), readThroughStrata(r, m.tensor(SPLIT), true));
            assertEquals(m.totalSize(), r.verifiedBytes());
        }
        assertTrue(ModelVerifier.verify(dir, x -> { }).ok());
        TensorInfo e = m.tensor(EXPERT);
        flip(dir.resolve(m.shard(e.ranges().getFirst().shardIndex()).filename()), e.ranges().getFirst().offset());
        try (ShardReader r = ShardReader.open(dir, m)) {
            CorruptShardException ex = assertThrows(CorruptShardException.class,
                    () -> readThroughStrata(r, e, true));
            assertEquals(e.ranges().getFirst().shardIndex(), ex.shard());
            assertTrue(ex.getMessage().contains("does not match its hash in manifest.json"), ex.getMessage());
        }
        List<String> lines = ModelVerifier.verify(dir, x -> { }).problems().stream().map(Object::toString).toList();
        assertEquals(List.of("shard 1 (shard_00001.bin): whole-file sha256 mismatch"), lines);
    }

    /** DOPPLER's blake3 without roots: nothing can be checked, and that is said instead of "damaged". */
    @Test
    void dopplerBlake3WithoutRootsIsUncheckableNotCorrupt() throws IOException {
        Path dir = copyWithoutIntegrityExtensions("tiny-mixtral-f16-blake3");
        Manifest m = ManifestCodec.read(dir);
        try (ShardReader r = ShardReader.open(dir, m)) {
            UnverifiableBytesException e = assertThrows(UnverifiableBytesException.class,
                    () -> readThroughStrata(r, m.tensor(EXPERT), true));
            assertTrue(e.getMessage().contains("DOPPLER's blake3, which is not standard BLAKE3"), e.getMessage());
            assertTrue(e.getMessage().contains("--trust-local"), e.getMessage());
            assertArrayEquals(independentTensors(dir).get(EXPERT), readThroughStrata(r, m.tensor(EXPERT), false));
        }
        ModelVerifier.Report rep = ModelVerifier.verify(dir, x -> { });
        assertFalse(rep.ok());
        assertTrue(rep.problems().isEmpty(), "not reported as damage: " + rep.problems());
        assertTrue(rep.notes().getFirst().contains("cannot be checked (this is not known damage)"),
                rep.notes().getFirst());
    }

    /** Roots computed by DOPPLER 0.5.1's own buildMerkleTree (src/formats/rdrr/merkle.js) over the same bytes. */
    @Test
    void blockMerkleRootsMatchDopplersOwnOverSeveralBlocks() {
        long[] sizes = {0, 1, 1048576, 1048577, 3682361, 5242880};
        String[] roots = {
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "fe4abab428e3f5a9c88e3682c2c21c1857b089d71f09086585e4cdf2ec5b625b",
            "45850d046298c5dbec830dd3f65a2d7cf1b83ee61263fd8cb6bf27e8716bf038",
            "fc0406f7cf9fb15c452b052a83c21cf8fd4b960227e7964d12ab4f5f56e696ba",
            "3c4f5d54a47001d6b2987da6fddc360aa36a73ff0e708d4d7af0f85db3018561"};
        for (int k = 0; k < sizes.length; k++) {
            int n = (int) sizes[k];
            byte[] b = new byte[n];
            for (int i = 0; i < n; i++) {
                b[i] = (byte) (i * 31 + (i >> 11));
            }
            MemorySegment all = MemorySegment.ofArray(b);
            assertEquals(roots[k], ShardHasher.blockMerkleRoot(List.of(all), 1 << 20), "size " + n);
            // the same bytes as uneven spans (a block straddles them)
            int cut1 = n / 3;
            int cut2 = n - n / 5;
            List<MemorySegment> parts = List.of(all.asSlice(0, cut1), all.asSlice(cut1, cut2 - cut1),
                    all.asSlice(cut2, n - cut2));
            assertEquals(roots[k], ShardHasher.blockMerkleRoot(parts, 1 << 20), "size " + n + " in spans");
        }
    }
}
