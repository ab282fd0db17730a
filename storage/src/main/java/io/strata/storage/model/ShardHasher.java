package io.strata.storage.model;

import io.strata.core.hash.Blake3;
import io.strata.core.manifest.BlockMerkle;
import io.strata.core.manifest.Manifest;
import io.strata.core.manifest.ShardInfo;
import io.strata.storage.mmap.MappedFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The one shard hasher: BLAKE3 of shard bytes exactly as the manifest records them (the whole file, one hash per
 * {@code chunkSize} bytes, one per group range), and for manifests without chunk hashes (DOPPLER's) the whole-shard
 * SHA-256 and the per-tensor block Merkle roots ({@link BlockMerkle}). The converter fills the manifest with it, {@code strata verify}
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
        return fileHash(file, Manifest.HASH_BLAKE3);
    }

    /**
     * Whole-file hash (hex) of {@code file} with a manifest's {@code hashAlgorithm} ({@link #wholeHash}); for
     * DOPPLER's non-standard blake3 it is the standard BLAKE3, which matches only if DOPPLER's ever does.
     */
    public static String fileHash(Path file, String algorithm) throws IOException {
        MappedFile mf = MappedFile.open(file);
        try {
            return wholeHash(mf.segment(), algorithm);
        } finally {
            mf.release();
        }
    }

    /** The whole-shard hash (hex) of {@code seg} as a manifest with {@code algorithm} records it. */
    public static String wholeHash(MemorySegment seg, String algorithm) {
        return Manifest.HASH_SHA256.equals(algorithm) ? Blake3.hex(sha256(List.of(seg))) : Blake3.hashHex(seg);
    }

    /** SHA-256 of {@code parts} back to back. */
    public static byte[] sha256(List<MemorySegment> parts) {
        MessageDigest md = newSha256();
        for (MemorySegment p : parts) {
            update(md, p);
        }
        return md.digest();
    }

    /**
     * The block Merkle root (hex, no prefix) of the bytes {@code parts} hold back to back, as {@link BlockMerkle}
     * defines it: SHA-256 leaves over {@code blockSize} blocks (a block may straddle parts), parents the SHA-256 of
     * two child digests, an odd last node paired with itself.
     */
    public static String blockMerkleRoot(List<MemorySegment> parts, long blockSize) {
        List<byte[]> level = new ArrayList<>();
        MessageDigest leaf = newSha256();
        long fill = 0;
        for (MemorySegment p : parts) {
            long at = 0;
            while (at < p.byteSize()) {
                long take = Math.min(blockSize - fill, p.byteSize() - at);
                update(leaf, p.asSlice(at, take));
                fill += take;
                at += take;
                if (fill == blockSize) {
                    level.add(leaf.digest());
                    fill = 0;
                }
            }
        }
        if (fill > 0 || level.isEmpty()) {
            level.add(leaf.digest()); // the short last block, or SHA-256("") for an empty tensor
        }
        MessageDigest node = newSha256();
        while (level.size() > 1) {
            List<byte[]> up = new ArrayList<>((level.size() + 1) / 2);
            for (int i = 0; i < level.size(); i += 2) {
                node.update(level.get(i));
                node.update(level.get(Math.min(i + 1, level.size() - 1)));
                up.add(node.digest());
            }
            level = up;
        }
        return Blake3.hex(level.getFirst());
    }

    static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JDK has no SHA-256", e);
        }
    }

    /** Feeds {@code seg} through a heap buffer (the JDK's SHA-256 intrinsics work on arrays). */
    private static void update(MessageDigest md, MemorySegment seg) {
        byte[] buf = new byte[(int) Math.min(seg.byteSize(), 1 << 20)];
        for (long at = 0; at < seg.byteSize(); at += buf.length) {
            int n = (int) Math.min(buf.length, seg.byteSize() - at);
            MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, at, buf, 0, n);
            md.update(buf, 0, n);
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
