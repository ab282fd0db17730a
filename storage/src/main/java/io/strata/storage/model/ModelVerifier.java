package io.strata.storage.model;

import io.strata.core.hash.Blake3;
import io.strata.core.manifest.GroupInfo;
import io.strata.core.manifest.Manifest;
import io.strata.storage.gguf.GgufManifest;
import io.strata.core.manifest.ManifestCodec;
import io.strata.core.manifest.ShardInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.function.LongConsumer;

/**
 * Re-hashes a converted model against its manifest: every chunk, every whole shard and every group range (a
 * manifest without chunk hashes: every whole shard and every tensor's block Merkle root, see {@code UnitCheck}), with
 * the same {@link ShardHasher} the converter filled the manifest with, over the shards' mappings from the one
 * {@link ShardReader}. Every problem is collected (missing shard,
 * wrong size, bad chunk, bad whole-file or group hash), so one run names all damaged chunks; an unreadable or
 * inconsistent manifest throws.
 */
public final class ModelVerifier {
    /**
     * One problem: {@code chunk} is -1 when it concerns the whole shard, {@code group} is null unless a group's,
     * {@code tensor} null unless a tensor's (then {@code shard} is where its first bytes are).
     */
    public record Problem(int shard, String filename, int chunk, long start, long end, String group, String tensor,
                          String reason) {
        Problem(int shard, String filename, int chunk, long start, long end, String group, String reason) {
            this(shard, filename, chunk, start, end, group, null, reason);
        }

        @Override
        public String toString() {
            if (tensor != null) {
                return "tensor '" + tensor + "' (shard " + shard + " " + filename + " @" + start + "): " + reason;
            }
            String where = shard < 0 ? filename : "shard " + shard + " (" + filename + ")";
            if (chunk >= 0) {
                where += " chunk " + chunk + " [" + start + ", " + end + ")";
            }
            if (group != null) {
                where += " group " + group;
            }
            return where + ": " + reason;
        }
    }

    /**
     * What was checked and what failed: {@code chunks} chunk hashes and {@code tensors} block Merkle roots compared;
     * {@code notes} say what could not be checked (DOPPLER's non-standard blake3) without being damage.
     * {@code verified} is false when some bytes could not be checked at all.
     */
    public record Report(String manifestHash, String hashAlgorithm, int shards, int chunks, int tensors, long bytes,
                         List<Problem> problems, List<String> notes, boolean verified) {
        public boolean ok() {
            return problems.isEmpty() && verified;
        }
    }

    private ModelVerifier() {
    }

    /** The problem with shard {@code s}'s file (missing, not a regular file, wrong size), or null when there is none. */
    static Problem fileProblem(Path dir, ShardInfo s) throws IOException {
        Path p = dir.resolve(s.filename());
        if (!Files.isRegularFile(p)) {
            return new Problem(s.index(), s.filename(), -1, 0, s.size(), null,
                    Files.exists(p) ? "not a regular file" : "missing");
        }
        long actual = Files.size(p);
        return actual == s.size() ? null : new Problem(s.index(), s.filename(), -1, 0, s.size(), null, "is "
                + actual + " bytes, the manifest says " + s.size());
    }

    /** Verifies {@code dir}; {@code hashedBytes} hears the running total of shard bytes checked. */
    public static Report verify(Path dir, LongConsumer hashedBytes) throws IOException {
        if (GgufManifest.isGguf(dir) && !Files.isDirectory(dir)) {
            // the header, tensor offsets and sizes are validated on open; the bytes themselves have no hash
            Manifest m = GgufManifest.read(dir);
            return new Report(Blake3.hashHex(ManifestCodec.toBytes(m)), Manifest.HASH_NONE, 1, 0, 0, 0, List.of(),
                    List.of("no hashes: unverifiable: GGUF carries no hashes of its tensors, so nothing can be checked"
                            + " beyond its structure (header, tensor offsets and sizes are valid); convert it with"
                            + " `strata shard-convert` to get a verifiable model"), false);
        }
        byte[] bytes = ManifestCodec.readBytes(dir);
        Manifest m = ManifestCodec.fromBytes(bytes, dir.resolve(Manifest.FILE_NAME).toString());
        if (!m.hasChunkHashes()) {
            return UnitCheck.verify(dir, m, Blake3.hashHex(bytes), hashedBytes);
        }
        List<Problem> problems = new ArrayList<>();
        ExecutorService pool = ShardHasher.newPool("strata-verify");
        int chunkCount = 0;
        long done = 0;
        try (ShardReader reader = ShardReader.open(dir, m)) {
            for (ShardInfo s : m.shards()) {
                Path p = dir.resolve(s.filename());
                Problem missing = fileProblem(dir, s);
                if (missing != null) {
                    problems.add(missing);
                    continue;
                }
                List<Map.Entry<String, GroupInfo>> groups = m.groups().entrySet().stream()
                        .filter(g -> g.getValue().shard() == s.index() && g.getValue().hash() != null).toList();
                ShardHasher.Hashes h;
                try {
                    h = ShardHasher.hash(reader.segment(s.index()), m.chunkSize(), groups.stream()
                            .map(g -> new long[]{g.getValue().offset(), g.getValue().size()}).toList(), pool).join();
                } catch (CompletionException e) {
                    throw new IOException(p + ": cannot hash: " + e.getCause().getMessage(), e.getCause());
                }
                for (int c = 0; c < s.chunks().size(); c++) {
                    if (!h.chunks().get(c).equals(s.chunks().get(c))) {
                        long start = s.chunkStart(c, m.chunkSize());
                        problems.add(new Problem(s.index(), s.filename(), c, start,
                                start + s.chunkLength(c, m.chunkSize()), null, "chunk hash mismatch"));
                    }
                }
                if (!h.whole().equals(s.hash())) {
                    problems.add(new Problem(s.index(), s.filename(), -1, 0, s.size(), null,
                            "whole-file hash mismatch"));
                }
                for (int k = 0; k < groups.size(); k++) {
                    GroupInfo g = groups.get(k).getValue();
                    if (!h.groupHashes().get(k).equals(g.hash())) {
                        problems.add(new Problem(s.index(), s.filename(), -1, g.offset(), g.offset() + g.size(),
                                groups.get(k).getKey(), "group hash mismatch"));
                    }
                }
                chunkCount += s.chunks().size();
                done += s.size();
                hashedBytes.accept(done);
            }
        } finally {
            pool.shutdownNow();
        }
        problems.addAll(BundledFiles.verify(dir, m));
        return new Report(Blake3.hashHex(bytes), m.hashAlgorithmOrBlake3(), m.shards().size(), chunkCount, 0, done,
                List.copyOf(problems), List.of(), true);
    }
}
