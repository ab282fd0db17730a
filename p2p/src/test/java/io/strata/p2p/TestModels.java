package io.strata.p2p;

import io.strata.core.manifest.Manifest;
import io.strata.core.manifest.ManifestCodec;
import io.strata.core.manifest.ShardInfo;
import io.strata.core.model.Layout;
import io.strata.p2p.store.ShardHasher;
import io.strata.p2p.wire.ModelHash;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Writes small models for tests: random shard files and a manifest with real BLAKE3 chunk and file hashes. */
public final class TestModels {
    private TestModels() {
    }

    public static ModelHash write(Path dir, long chunkSize, long seed, long... shardSizes) throws IOException {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < shardSizes.length; i++) {
            names.add(String.format("shard_%05d.bin", i));
        }
        return writeNamed(dir, chunkSize, seed, names, shardSizes);
    }

    /** Like {@link #write} with the shard files named {@code names} (a manifest as a hostile peer might make). */
    public static ModelHash writeNamed(Path dir, long chunkSize, long seed, List<String> names, long... shardSizes)
            throws IOException {
        Files.createDirectories(dir);
        Random r = new Random(seed);
        List<ShardInfo> shards = new ArrayList<>();
        long total = 0;
        for (int i = 0; i < shardSizes.length; i++) {
            byte[] b = new byte[(int) shardSizes[i]];
            r.nextBytes(b);
            Path f = dir.resolve(names.get(i));
            Files.write(f, b);
            shards.add(ShardHasher.describe(i, f, chunkSize));
            total += b.length;
        }
        Manifest m = new Manifest(1, "test-model-" + seed, "transformer", "TestForCausalLM", null, "F32",
                Manifest.HASH_BLAKE3, chunkSize, Layout.ROW, total, null, shards, null, null);
        byte[] json = ManifestCodec.toBytes(m);
        Files.write(dir.resolve(Manifest.FILE_NAME), json);
        return ModelHash.ofManifest(json);
    }

    /**
     * Checks {@code out} the way {@code strata verify} does: manifest bytes identical to the origin's, every shard
     * present with the manifest's size and whole-file hash, nothing else left behind (staging directories,
     * temporaries). Returns a reason or null.
     */
    public static String verify(Path origin, Path out) throws IOException {
        byte[] json = Files.readAllBytes(out.resolve(Manifest.FILE_NAME));
        if (!java.util.Arrays.equals(json, Files.readAllBytes(origin.resolve(Manifest.FILE_NAME)))) {
            return "manifest differs";
        }
        Manifest m = ManifestCodec.fromBytes(json, "test");
        for (ShardInfo s : m.shards()) {
            Path f = out.resolve(s.filename());
            if (!Files.isRegularFile(f) || Files.size(f) != s.size()) {
                return s.filename() + " missing or wrong size";
            }
            if (!ShardHasher.fileHash(f).equals(s.hash())) {
                return s.filename() + " hash mismatch";
            }
            if (Files.mismatch(f, origin.resolve(s.filename())) != -1) {
                return s.filename() + " differs from the origin";
            }
        }
        try (var files = Files.list(out)) {
            java.util.Set<String> expected = new java.util.HashSet<>(List.of(Manifest.FILE_NAME, "manifest.sig"));
            m.shards().forEach(s -> expected.add(s.filename()));
            List<Path> extra = files.filter(p -> !expected.contains(p.getFileName().toString())).toList();
            if (!extra.isEmpty()) {
                return "leftover " + extra;
            }
        }
        return null;
    }
}
