package io.strata.storage.model;

import io.strata.core.hash.Blake3;
import io.strata.core.manifest.GroupInfo;
import io.strata.core.manifest.Manifest;
import io.strata.core.manifest.ManifestCodec;
import io.strata.core.manifest.ShardInfo;
import io.strata.storage.mmap.MappedFile;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;

/**
 * Re-hashes a converted model against its manifest: every chunk, every whole shard and every group range, on all
 * cores. Every problem is collected (missing shard, wrong size, bad chunk, bad whole-file or group hash), so one
 * run names all damaged chunks; an unreadable or inconsistent manifest throws.
 */
public final class ModelVerifier {
    /** One problem: {@code chunk} is -1 when it concerns the whole shard, {@code group} is null unless a group's. */
    public record Problem(int shard, String filename, int chunk, long start, long end, String group, String reason) {
        @Override
        public String toString() {
            String where = "shard " + shard + " (" + filename + ")";
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

    /** Verifies {@code dir}; {@code hashedBytes} hears of progress (bytes of chunks hashed), from any thread. */
    public static Report verify(Path dir, LongConsumer hashedBytes) throws IOException {
        Path file = dir.resolve(Manifest.FILE_NAME);
        Manifest m = ManifestCodec.read(dir);
        String manifestHash = Blake3.hashHex(Files.readAllBytes(file));
        List<Problem> problems = new ArrayList<>();
        int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "strata-verify");
            t.setDaemon(true);
            return t;
        });
        int chunkCount = 0;
        long bytes = 0;
        AtomicLong progress = new AtomicLong();
        try {
            for (ShardInfo s : m.shards()) {
                Path p = dir.resolve(s.filename());
                if (!Files.exists(p)) {
                    problems.add(new Problem(s.index(), s.filename(), -1, 0, s.size(), null, "missing"));
                    continue;
                }
                long actual = Files.size(p);
                if (actual != s.size()) {
                    problems.add(new Problem(s.index(), s.filename(), -1, 0, s.size(), null, "is " + actual
                            + " bytes, the manifest says " + s.size()));
                    continue;
                }
                MappedFile map = MappedFile.open(p);
                try {
                    MemorySegment seg = map.segment();
                    List<Future<Problem>> checks = new ArrayList<>();
                    for (int c = 0; c < s.chunks().size(); c++) {
                        int chunk = c;
                        long start = s.chunkStart(c, m.chunkSize());
                        long len = s.chunkLength(c, m.chunkSize());
                        checks.add(pool.submit(() -> {
                            String h = Blake3.hashHex(seg.asSlice(start, len));
                            hashedBytes.accept(progress.addAndGet(len));
                            return h.equals(s.chunks().get(chunk)) ? null : new Problem(s.index(), s.filename(),
                                    chunk, start, start + len, null, "chunk hash mismatch");
                        }));
                    }
                    checks.add(pool.submit(() -> Blake3.hashHex(seg).equals(s.hash()) ? null
                            : new Problem(s.index(), s.filename(), -1, 0, s.size(), null, "whole-file hash mismatch")));
                    for (Map.Entry<String, GroupInfo> g : m.groups().entrySet()) {
                        GroupInfo gi = g.getValue();
                        if (gi.shard() == s.index() && gi.hash() != null) {
                            checks.add(pool.submit(() -> Blake3.hashHex(seg.asSlice(gi.offset(), gi.size()))
                                    .equals(gi.hash()) ? null : new Problem(s.index(), s.filename(), -1, gi.offset(),
                                    gi.offset() + gi.size(), g.getKey(), "group hash mismatch")));
                        }
                    }
                    for (Future<Problem> f : checks) {
                        Problem pr = f.get();
                        if (pr != null) {
                            problems.add(pr);
                        }
                    }
                } catch (ExecutionException e) {
                    throw new IOException(p + ": cannot hash: " + e.getCause(), e.getCause());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted while verifying " + p, e);
                } finally {
                    map.release();
                }
                chunkCount += s.chunks().size();
                bytes += s.size();
            }
        } finally {
            pool.shutdownNow();
        }
        return new Report(manifestHash, m.shards().size(), chunkCount, bytes, List.copyOf(problems));
    }
}
