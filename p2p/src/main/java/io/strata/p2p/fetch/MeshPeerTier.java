package io.strata.p2p.fetch;

import io.strata.core.manifest.Manifest;
import io.strata.core.manifest.ShardInfo;
import io.strata.core.weights.PeerTier;
import io.strata.p2p.node.PeerNode;
import io.strata.p2p.store.ChunkKey;
import io.strata.p2p.wire.ModelHash;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The runtime's peer tier over the mesh: pulls exactly the requested chunks of one shard from whichever connected
 * peers have them, each verified against the manifest's chunk hash before it is copied into the caller's segment.
 */
public final class MeshPeerTier implements PeerTier {
    /** Never started: only asks whether a segment may be touched by a thread other than its owner. */
    private static final Thread OTHER_THREAD = new Thread(() -> { });
    private final PeerNode node;
    private final ModelHash model;
    private final Manifest manifest;
    private final SwarmOptions opts;
    private final Duration timeout;

    public MeshPeerTier(PeerNode node, ModelHash model, Manifest manifest, SwarmOptions opts, Duration timeout) {
        if (!manifest.hasChunkHashes()) {
            throw new IllegalArgumentException("model " + model.hex() + " has no per-chunk hashes (hashAlgorithm "
                    + manifest.hashAlgorithm() + ", a DOPPLER manifest): its chunks cannot be checked one by one, so"
                    + " it cannot be paged from peers; fetch it whole with strata fetch and run the directory");
        }
        this.node = node;
        this.model = model;
        this.manifest = manifest;
        this.opts = opts;
        this.timeout = timeout;
    }

    /** The chunk range [first, first + count) covering bytes [offset, offset + length) of a shard. */
    public static int[] chunksCovering(long offset, long length, long chunkSize) {
        int first = (int) (offset / chunkSize);
        int last = (int) ((offset + Math.max(1, length) - 1) / chunkSize);
        return new int[]{first, last - first + 1};
    }

    @Override
    public void fetchChunks(int shard, int firstChunk, int chunkCount, MemorySegment dst) throws IOException {
        ShardInfo s = manifest.shard(shard);
        long cs = manifest.chunkSize();
        int total = ShardInfo.chunkCount(s.size(), cs);
        if (firstChunk < 0 || chunkCount < 0 || firstChunk + chunkCount > total) {
            throw new IOException("shard " + shard + " (" + s.filename() + "): chunks [" + firstChunk + ", "
                    + (firstChunk + chunkCount) + ") outside its " + total + " chunks");
        }
        long bytes = 0;
        List<ChunkKey> wanted = new ArrayList<>();
        for (int c = firstChunk; c < firstChunk + chunkCount; c++) {
            wanted.add(new ChunkKey(shard, c));
            bytes += s.chunkLength(c, cs);
        }
        if (dst.byteSize() != bytes) {
            throw new IOException("shard " + shard + " chunks [" + firstChunk + ", " + (firstChunk + chunkCount)
                    + "): destination holds " + dst.byteSize() + " bytes, the chunks " + bytes);
        }
        long base = firstChunk * cs;
        // verifier threads write the chunks; a thread-confined destination gets them through a shared staging area
        boolean direct = dst.isAccessibleBy(OTHER_THREAD);
        Arena staging = direct ? null : Arena.ofShared();
        MemorySegment target = direct ? dst : staging.allocate(bytes, 64);
        ChunkSink sink = (k, verified) -> {
            ByteBuffer b = verified.duplicate();
            MemorySegment.copy(MemorySegment.ofBuffer(b), 0, target, k.chunk() * cs - base, b.remaining());
        };
        ChunkSwarm swarm = new ChunkSwarm(node, model, manifest, wanted, sink, opts);
        try {
            swarm.start().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (!direct) {
                MemorySegment.copy(target, 0, dst, 0, bytes);
            }
        } catch (TimeoutException e) {
            swarm.cancel();
            throw new IOException("peer tier: shard " + shard + " chunks [" + firstChunk + ", "
                    + (firstChunk + chunkCount) + ") not fetched within " + timeout.toMillis() + " ms", e);
        } catch (ExecutionException e) {
            throw new IOException("peer tier: shard " + shard + ": " + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            swarm.cancel();
            Thread.currentThread().interrupt();
            throw new IOException("peer tier: interrupted", e);
        } finally {
            try {
                swarm.awaitQuiet(5_000); // no verifier may write into dst after we return
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (staging != null) {
                staging.close();
            }
        }
    }
}
