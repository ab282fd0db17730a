package io.strata.storage.model;

import io.strata.core.hash.Blake3;
import io.strata.core.manifest.ShardInfo;
import io.strata.storage.mmap.MappedFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The one shard hasher: BLAKE3 of shard bytes exactly as the manifest records them (the whole file, one hash per
 * {@code chunkSize} bytes, one per group range). The converter fills the manifest with it, {@code strata verify}
 * and {@link ShardReader}'s verification on read compare against it, and the peer store describes and checks the
 * shards it receives with it, so there is one definition of a shard's hashes.
 */
public final class ShardHasher {
    /** The hashes of one shard; {@code groupHashes} in the order the ranges were given. */
    public record Hashes(String whole, List<String> chunks, List<String> groupHashes) {
    }

    private ShardHasher() {
    }

    /** A pool of daemon threads, one per core, for {@link #hash}; the caller shuts it down. */
    public static ExecutorService newPool(String threadName) {
        return Executors.newFixedThreadPool(Math.max(1, Runtime.getRuntime().availableProcessors()), r -> {
            Thread t = new Thread(r, threadName);
            t.setDaemon(true);
            return t;
        });
    }

    /** The per-chunk hashes (hex) of {@code bytes}, cut into {@code chunkSize} pieces (the last may be short). */
    public static List<String> chunkHashes(MemorySegment bytes, long chunkSize) {
        List<String> out = new ArrayList<>();
        for (byte[] h : Blake3.chunkHashes(bytes, chunkSize)) {
            out.add(Blake3.hex(h));
        }
        return out;
    }

    /**
     * Maps {@code file} (which must be {@code size} bytes) and hashes it; {@code groupRanges} are {offset, size}
     * pairs. Used when converting (to fill the manifest).
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
            return CompletableFuture.failedFuture(new IllegalStateException(file + ": wrote " + map.size()
                    + " bytes, planned " + size));
        }
        return hash(map.segment(), chunkSize, groupRanges, pool).whenComplete((v, err) -> map.release());
    }

    /**
     * Hashes {@code seg} as independent tasks on {@code pool} (so hashing overlaps other work and uses every
     * core): the whole, each chunk, each group range. {@code seg} must stay readable until the future completes.
     */
    public static CompletableFuture<Hashes> hash(MemorySegment seg, long chunkSize, List<long[]> groupRanges,
                                                 Executor pool) {
        CompletableFuture<String> whole = CompletableFuture.supplyAsync(() -> Blake3.hashHex(seg), pool);
        CompletableFuture<List<String>> chunks = CompletableFuture.supplyAsync(() -> chunkHashes(seg, chunkSize),
                pool);
        List<CompletableFuture<String>> groupTasks = new ArrayList<>();
        for (long[] r : groupRanges) {
            groupTasks.add(CompletableFuture.supplyAsync(() -> Blake3.hashHex(seg.asSlice(r[0], r[1])), pool));
        }
        List<CompletableFuture<?>> all = new ArrayList<>(groupTasks);
        all.add(whole);
        all.add(chunks);
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new))
                .thenApply(v -> new Hashes(whole.join(), chunks.join(),
                        groupTasks.stream().map(CompletableFuture::join).toList()));
    }

    /** Whole-file hash (hex) of {@code file}. */
    public static String fileHash(Path file) throws IOException {
        MappedFile mf = MappedFile.open(file);
        try {
            return Blake3.hashHex(mf.segment());
        } finally {
            mf.release();
        }
    }

    /** The manifest entry for {@code file} as shard {@code index}. */
    public static ShardInfo describe(int index, Path file, long chunkSize) throws IOException {
        MappedFile mf = MappedFile.open(file);
        try {
            MemorySegment seg = mf.segment();
            return new ShardInfo(index, file.getFileName().toString(), seg.byteSize(), Blake3.hashHex(seg),
                    chunkHashes(seg, chunkSize));
        } finally {
            mf.release();
        }
    }
}
