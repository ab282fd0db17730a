package io.strata.loader.source;

import io.strata.loader.runtime.ReadMode;
import io.strata.core.hash.Blake3;
import io.strata.core.hash.Blake3Hasher;
import io.strata.core.manifest.Manifest;
import io.strata.core.manifest.ShardInfo;
import io.strata.core.manifest.Span;
import io.strata.core.model.Tier;
import io.strata.core.telemetry.TierCounters;
import io.strata.core.weights.PeerTier;
import io.strata.loader.disk.DiskCache;
import io.strata.storage.model.ShardReader;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The bottom of the fetch path, below host memory. With a local model directory (the origin), experts are read
 * from it in place, straight into the tier's block ({@link LocalReads}: {@code O_DIRECT} by default), and the disk
 * cache is neither read nor filled: it would only hold a second copy of bytes already on local disk. An expert
 * group's bytes are verified against the manifest's BLAKE3 of the whole group, once per group per process (the
 * same bytes the chunk hashes cover; a mismatch is then located chunk by chunk through {@link ShardReader#read},
 * which names the file, chunk and offsets); blocks without a group hash (GGUF, DOPPLER layouts) and dense tensors
 * go through the shard reader's chunk-verified read. {@code cacheLocal} (a model directory on slow or network
 * storage, {@code --cache-local}) restores the disk cache in front of the origin. Without an origin, bytes come
 * from the disk cache, else from the peer tier (whole chunks, verified by the peer tier), and bytes fetched from
 * peers are imported into the disk cache so the next run finds them on disk.
 */
public final class ByteFetcher implements AutoCloseable {
    private final Manifest manifest;
    private final ShardReader origin;
    private final PeerTier peer;
    private final DiskCache disk;
    private final Map<Tier, TierCounters> counters;
    private final boolean trustLocal;
    private final boolean cacheLocal;
    private final LocalReads local;
    /** Expert groups whose bytes matched their manifest hash once in this process. */
    private final Set<String> verifiedGroups = ConcurrentHashMap.newKeySet();

    /**
     * @param origin     the model directory's reader, or null when bytes come only from the disk cache and peers
     * @param trustLocal read the origin without verifying it ({@code --trust-local})
     */
    public ByteFetcher(Manifest manifest, ShardReader origin, PeerTier peer, DiskCache disk,
                       Map<Tier, TierCounters> counters, boolean trustLocal) {
        this(manifest, origin, peer, disk, counters, trustLocal, ReadMode.DIRECT, false);
    }

    /**
     * @param readMode   how expert groups are read from the origin
     * @param cacheLocal also keep bytes read from the origin in the disk cache (slow or remote model directory)
     */
    public ByteFetcher(Manifest manifest, ShardReader origin, PeerTier peer, DiskCache disk,
                       Map<Tier, TierCounters> counters, boolean trustLocal, ReadMode readMode, boolean cacheLocal) {
        if (origin == null && peer == null) {
            throw new IllegalArgumentException("no source of bytes: give the model directory or a peer tier");
        }
        this.manifest = manifest;
        this.origin = origin;
        this.peer = peer;
        this.disk = disk;
        this.counters = counters;
        // a GGUF file read in place has no hashes: its bytes can only be read unverified (the CLI says so)
        this.trustLocal = trustLocal || !manifest.hasHashes();
        this.cacheLocal = cacheLocal;
        this.local = origin == null ? null : new LocalReads(origin, readMode);
    }

    /**
     * Fills {@code dst} with a block made of {@code ranges} back to back (an expert) and says which tier served
     * it: the disk cache when {@code contentHash} names it there, else the origin or the peers; bytes from below
     * the disk cache are imported into it under that hash (verified against it when they came from peers).
     */
    public Tier fetchBlock(String what, List<Span> ranges, String contentHash, MemorySegment dst) throws IOException {
        long total = 0;
        for (Span r : ranges) {
            total += r.size();
        }
        if (dst.byteSize() != total) {
            throw new IllegalArgumentException(what + " is " + total + " bytes, buffer " + dst.byteSize());
        }
        if (origin != null && !cacheLocal) {
            return readLocal(what, ranges, contentHash, dst);
        }
        boolean cacheable = disk != null && contentHash != null;
        if (cacheable && disk.read(contentHash, dst)) {
            return Tier.DISK;
        }
        Tier from = read(ranges, dst);
        if (cacheable) {
            // origin bytes were verified chunk by chunk (unless trusted): no need to hash them again to import
            disk.put(contentHash, dst, from == Tier.ORIGIN && !trustLocal);
        } else if (from == Tier.PEER && contentHash != null && !Blake3.hashHex(dst).equals(contentHash)) {
            throw new IOException(what + " from peers does not match its manifest hash");
        }
        return from;
    }

    /**
     * An expert block from the model directory, in place: a group with a manifest hash through {@link LocalReads}
     * (verified against that hash once per process unless trusted), anything else chunk-verified.
     */
    private Tier readLocal(String what, List<Span> ranges, String contentHash, MemorySegment dst) throws IOException {
        if (contentHash == null && !trustLocal) {
            return read(ranges, dst);
        }
        long t0 = System.nanoTime();
        boolean verify = !trustLocal && !verifiedGroups.contains(contentHash);
        byte[] digest;
        if (ranges.size() == 1) { // a Strata group: pieces hashed by the readers as they arrive
            Span r = ranges.getFirst();
            digest = local.readPieces(r.shardIndex(), r.offset(), dst, verify);
        } else {
            Blake3Hasher hasher = verify ? Blake3.newHasher() : null;
            long at = 0;
            for (Span r : ranges) {
                MemorySegment part = dst.asSlice(at, r.size());
                local.readPieces(r.shardIndex(), r.offset(), part, false);
                if (hasher != null) {
                    hasher.update(part);
                }
                at += r.size();
            }
            digest = verify ? hasher.digest() : null;
        }
        if (verify) {
            if (!Blake3.hex(digest).equals(contentHash)) {
                read(ranges, dst); // names the damaged chunk, file and offsets (CorruptShardException)
                throw new IOException(what + " in " + origin.dir() + ": bytes at shard " + ranges.getFirst().shardIndex()
                        + " offset " + ranges.getFirst().offset() + " do not match the manifest's group hash "
                        + contentHash + " although every chunk does (inconsistent manifest)");
            }
            verifiedGroups.add(contentHash);
        }
        TierCounters c = counters.get(Tier.ORIGIN);
        c.hit();
        c.bytesOut(dst.byteSize());
        c.pageIn(what, null, dst.byteSize(), System.nanoTime() - t0);
        return Tier.ORIGIN;
    }

    /** The origin's reads in force (null without an origin). */
    public LocalReads localReads() {
        return local;
    }

    @Override
    public void close() {
        if (local != null) {
            local.close();
        }
    }

    /** Reads {@code ranges} back to back into {@code dst}; says which tier served the last of them. */
    public Tier read(List<Span> ranges, MemorySegment dst) throws IOException {
        long at = 0;
        Tier from = null;
        for (Span r : ranges) {
            from = readRange(r.shardIndex(), r.offset(), r.size(), dst.asSlice(at, r.size()));
            at += r.size();
        }
        return from;
    }

    /** Reads a byte range of a shard from the origin, or from peers (whole verified chunks, then cut). */
    public Tier readRange(int shard, long offset, long size, MemorySegment dst) throws IOException {
        long t0 = System.nanoTime();
        if (origin != null) {
            MemorySegment part = dst.asSlice(0, size);
            if (trustLocal) {
                origin.readTrusted(shard, offset, part);
            } else {
                origin.read(shard, offset, part);
            }
            TierCounters c = counters.get(Tier.ORIGIN);
            c.hit();
            c.bytesOut(size);
            c.pageIn("shard " + shard + "@" + offset, null, size, System.nanoTime() - t0);
            return Tier.ORIGIN;
        }
        ShardInfo s = manifest.shard(shard);
        long chunk = manifest.chunkSize();
        int first = (int) (offset / chunk);
        int last = (int) ((offset + size - 1) / chunk);
        long start = s.chunkStart(first, chunk);
        long len = s.chunkStart(last, chunk) + s.chunkLength(last, chunk) - start;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment tmp = a.allocate(len, 64);
            peer.fetchChunks(shard, first, last - first + 1, tmp);
            MemorySegment.copy(tmp, offset - start, dst, 0, size);
        }
        TierCounters c = counters.get(Tier.PEER);
        c.hit();
        c.bytesOut(len);
        c.pageIn("shard " + shard + "@" + offset, null, len, System.nanoTime() - t0);
        return Tier.PEER;
    }

    public boolean hasOrigin() {
        return origin != null;
    }
}
