package io.strata.loader.source;

import io.strata.core.hash.Blake3;
import io.strata.core.manifest.GroupInfo;
import io.strata.core.manifest.Manifest;
import io.strata.core.manifest.ShardInfo;
import io.strata.core.model.Tier;
import io.strata.core.telemetry.TierCounters;
import io.strata.core.weights.PeerTier;
import io.strata.loader.disk.DiskCache;
import io.strata.storage.model.ShardReader;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
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
        this.trustLocal = trustLocal;
    }

    /** Fills {@code dst} with a group's bytes and says which tier served them. */
    public Tier fetchGroup(String groupName, GroupInfo g, MemorySegment dst) throws IOException {
        if (dst.byteSize() != g.size()) {
            throw new IllegalArgumentException("group " + groupName + " is " + g.size() + " bytes, buffer "
                    + dst.byteSize());
        }
        boolean cacheable = disk != null && g.hash() != null;
        if (cacheable && disk.read(g.hash(), dst)) {
            return Tier.DISK;
        }
        Tier from = readRange(g.shard(), g.offset(), g.size(), dst);
        if (cacheable) {
            // origin bytes were verified chunk by chunk (unless trusted): no need to hash them again to import
            disk.put(g.hash(), dst, from == Tier.ORIGIN && !trustLocal);
        } else if (from == Tier.PEER && g.hash() != null && !Blake3.hashHex(dst).equals(g.hash())) {
            throw new IOException("group " + groupName + " from peers does not match its manifest hash");
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
