package io.strata.storage.model;

import io.strata.core.hash.Blake3;
import io.strata.core.manifest.GroupInfo;
import io.strata.core.manifest.Manifest;
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
 * Re-hashes a converted model against its manifest: every chunk, every whole shard and every group range, with
 * the same {@link ShardHasher} the converter filled the manifest with, over the shards' mappings from the one
 * {@link ShardReader}. Every problem is collected (missing shard,
 * wrong size, bad chunk, bad whole-file or group hash), so one run names all damaged chunks; an unreadable or
 * inconsistent manifest throws.
 */
public final class ModelVerifier {
    /** One problem: {@code chunk} is -1 when it concerns the whole shard, {@code group} is null unless a group's. */
    public record Problem(int shard, String filename, int chunk, long start, long end, String group, String reason) {
        @Override
        public String toString() {
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

    /** What was checked and what failed. */
    public record Report(String manifestHash, int shards, int chunks, long bytes, List<Problem> problems) {
        public boolean ok() {
            return problems.isEmpty();
        }
    }

    private ModelVerifier() {
    }

    /** Verifies {@code dir}; {@code hashedBytes} hears the running total of shard bytes checked. */
    public static Report verify(Path dir, LongConsumer hashedBytes) throws IOException {
        byte[] bytes = ManifestCodec.readBytes(dir);
        Manifest m = ManifestCodec.fromBytes(bytes, dir.resolve(Manifest.FILE_NAME).toString());
        List<Problem> problems = new ArrayList<>();
        ExecutorService pool = ShardHasher.newPool("strata-verify");
        int chunkCount = 0;
        long done = 0;
        try (ShardReader reader = ShardReader.open(dir, m)) {
            for (ShardInfo s : m.shards()) {
                Path p = dir.resolve(s.filename());
                if (!Files.isRegularFile(p)) {
                    problems.add(new Problem(s.index(), s.filename(), -1, 0, s.size(), null,
                            Files.exists(p) ? "not a regular file" : "missing"));
                    continue;
                }
                long actual = Files.size(p);
                if (actual != s.size()) {
                    problems.add(new Problem(s.index(), s.filename(), -1, 0, s.size(), null, "is " + actual
                            + " bytes, the manifest says " + s.size()));
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
        return new Report(Blake3.hashHex(bytes), m.shards().size(), chunkCount, done, List.copyOf(problems));
    }
}
