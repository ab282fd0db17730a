package io.strata.loader.source;

import io.strata.core.hash.Blake3;
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

/**
 * The bottom of the fetch path, below host memory: the disk cache first, then the origin (the converted model's
 * shards, read through its {@link ShardReader}, which verifies every chunk it hands out against the manifest once
 * per process unless local files are trusted) when it is here, else the peer tier (whole chunks, verified by the
 * peer tier). Bytes that came from below the disk cache are imported into it, so the next run finds them on disk;
 * the disk cache verifies what it serves against the blob's name.
 */
public final class ByteFetcher {
    private final Manifest manifest;
    private final ShardReader origin;
    private final PeerTier peer;
    private final DiskCache disk;
    private final Map<Tier, TierCounters> counters;
    private final boolean trustLocal;

    /**
     * @param origin     the model directory's reader, or null when bytes come only from the disk cache and peers
     * @param trustLocal read the origin without verifying it ({@code --trust-local})
     */
    public ByteFetcher(Manifest manifest, ShardReader origin, PeerTier peer, DiskCache disk,
                       Map<Tier, TierCounters> counters, boolean trustLocal) {
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
