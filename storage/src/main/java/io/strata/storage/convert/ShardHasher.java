package io.strata.storage.convert;

import io.strata.core.hash.Blake3;
import io.strata.storage.mmap.MappedFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * Hashes a written shard by mapping it back: the whole-file BLAKE3, one BLAKE3 per chunk and one per group
 * range, as independent tasks on an executor so that hashing overlaps the writing of the next shard and uses
 * every core. The mapping is released when the last task is done.
 */
public final class ShardHasher {
    /** The hashes of one shard; {@code groupHashes} in the order the ranges were given. */
    public record Hashes(String whole, List<String> chunks, List<String> groupHashes) {
    }

    private ShardHasher() {
    }

    /** A pool of daemon threads, one per core, for {@link #hash}; the caller shuts it down. */
    public static java.util.concurrent.ExecutorService newPool(String threadName) {
        return java.util.concurrent.Executors.newFixedThreadPool(Math.max(1, Runtime.getRuntime().availableProcessors()),
                r -> {
                    Thread t = new Thread(r, threadName);
                    t.setDaemon(true);
                    return t;
                });
    }

    /**
     * Maps {@code file} (which must be {@code size} bytes) and hashes it; {@code groupRanges} are {offset, size}
     * pairs. Used when converting (to fill the manifest) and when verifying (to compare with it).
     */
    public static CompletableFuture<Hashes> hash(Path file, long size, long chunkSize, List<long[]> groupRanges,
                                          Executor pool) {
        MappedFile map;
        try {
            map = MappedFile.open(file);
        } catch (IOException e) {
            return CompletableFuture.failedFuture(new UncheckedIOException(file + ": cannot map for hashing: "
                    + e.getMessage(), e));
        }
        if (map.size() != size) {
            map.release();
            return CompletableFuture.failedFuture(new ConvertException(file + ": wrote " + map.size()
                    + " bytes, planned " + size));
        }
        MemorySegment seg = map.segment();
        CompletableFuture<String> whole = CompletableFuture.supplyAsync(() -> Blake3.hashHex(seg), pool);
        List<CompletableFuture<List<String>>> chunkTasks = List.of(CompletableFuture.supplyAsync(() -> {
            List<String> out = new ArrayList<>();
            for (byte[] h : Blake3.chunkHashes(seg, chunkSize)) {
                out.add(Blake3.hex(h));
            }
            return out;
        }, pool));
        List<CompletableFuture<String>> groupTasks = new ArrayList<>();
        for (long[] r : groupRanges) {
            groupTasks.add(CompletableFuture.supplyAsync(() -> Blake3.hashHex(seg.asSlice(r[0], r[1])), pool));
        }
        List<CompletableFuture<?>> all = new ArrayList<>(chunkTasks);
        all.add(whole);
        all.addAll(groupTasks);
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new))
                .whenComplete((v, err) -> map.release())
                .thenApply(v -> new Hashes(whole.join(),
                        chunkTasks.stream().flatMap(f -> f.join().stream()).toList(),
                        groupTasks.stream().map(CompletableFuture::join).toList()));
    }
}
