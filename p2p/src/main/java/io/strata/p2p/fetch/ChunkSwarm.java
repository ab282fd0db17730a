package io.strata.p2p.fetch;

import io.netty.buffer.ByteBuf;
import io.strata.core.hash.Blake3;
import io.strata.core.manifest.Manifest;
import io.strata.core.manifest.ShardInfo;
import io.strata.p2p.node.NodeListener;
import io.strata.p2p.node.PeerConnection;
import io.strata.p2p.node.PeerNode;
import io.strata.p2p.node.RequestRejectedException;
import io.strata.p2p.store.ChunkKey;
import io.strata.p2p.store.ModelFiles;
import io.strata.p2p.wire.Bitfield;
import io.strata.p2p.wire.Message;
import io.strata.p2p.wire.ModelHash;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Fetches a set of chunks of one model from every connected peer that has them: rarest chunk first (fewest peers
 * holding it), a bounded number of requests in flight per peer, duplicate requests for the last chunks (endgame,
 * the losers cancelled). Every chunk is checked — length and BLAKE3 against the manifest — on a verifier thread
 * before it reaches the sink; a peer that sends a bad chunk is banned and the chunk is fetched elsewhere. A manifest
 * without chunk hashes (DOPPLER's: whole-shard SHA-256 only) moves in pieces of its chunkSize checked by length
 * alone: the sink must check each whole shard before using it ({@link ModelFetcher} does, through the staged
 * shard's whole-file hash; {@link MeshPeerTier}, which hands chunks to the runtime, refuses such manifests).
 *
 * <p>State is guarded by {@code this}; network callbacks arrive on event loops, verification on the verifier pool.
 */
public final class ChunkSwarm implements NodeListener {
    private final PeerNode node;
    private final ModelHash model;
    private final Manifest manifest;
    private final List<ShardInfo> files; // shards, then bundled files (ModelFiles)
    private final ChunkSink sink;
    private final SwarmOptions opts;
    private final LinkedHashSet<ChunkKey> remaining;
    private final Map<ChunkKey, List<Outstanding>> inFlight = new HashMap<>();
    private final Set<ChunkKey> writing = new HashSet<>();
    /** Chunks that arrived and wait for (or are in) verification, with how many copies: not to be requested again. */
    private final Map<ChunkKey, Integer> verifying = new HashMap<>();
    private final Map<PeerConnection, PeerState> peers = new HashMap<>();
    private final int[] chunksPerShard;
    private final RarestFirst pool;
    private final CompletableFuture<SwarmStats> done = new CompletableFuture<>();
    private final ExecutorService verifiers;
    private final ScheduledExecutorService ticker;
    private long chunks;
    private long bytes;
    private long rejected;
    private long banned;
    private long duplicates;
    private long timeouts;
    private long lastProgress = System.nanoTime();

    private record Outstanding(PeerState peer, CompletableFuture<Message.Piece> future) {
    }

    private static final class PeerState {
        final PeerConnection conn;
        List<Bitfield> have;
        int inFlight;
        int limit;
        int timeouts;
        boolean dropped;
        final Set<ChunkKey> requested = new HashSet<>();

        PeerState(PeerConnection conn, int limit) {
            this.conn = conn;
            this.limit = limit;
        }

        boolean has(ChunkKey k) {
            return have != null && k.shard() < have.size() && have.get(k.shard()).size() > k.chunk()
                    && have.get(k.shard()).get(k.chunk());
        }
    }

    public ChunkSwarm(PeerNode node, ModelHash model, Manifest manifest, Collection<ChunkKey> wanted, ChunkSink sink,
                      SwarmOptions opts) {
        this.node = node;
        this.model = model;
        this.manifest = manifest;
        this.sink = sink;
        this.opts = opts;
        List<ChunkKey> order = new ArrayList<>(new LinkedHashSet<>(wanted));
        Collections.shuffle(order); // random tie-break among equally rare chunks: fetchers spread out
        this.remaining = new LinkedHashSet<>(order);
        this.files = ModelFiles.of(manifest);
        this.chunksPerShard = new int[files.size()];
        for (ShardInfo s : files) {
            chunksPerShard[s.index()] = ShardInfo.chunkCount(s.size(), manifest.chunkSize());
        }
        this.pool = new RarestFirst(chunksPerShard, order);
        this.verifiers = Executors.newFixedThreadPool(opts.verifyThreads(), r -> {
            Thread t = new Thread(r, "strata-verify-" + model);
            t.setDaemon(true);
            return t;
        });
        this.ticker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "strata-swarm-" + model);
            t.setDaemon(true);
            return t;
        });
    }

    /** Starts fetching; the future completes when every wanted chunk has been verified and handed to the sink. */
    public CompletableFuture<SwarmStats> start() {
        done.whenComplete((s, e) -> shutdown());
        synchronized (this) {
            if (remaining.isEmpty()) {
                done.complete(stats());
                return done;
            }
        }
        node.addListener(this);
        for (PeerConnection c : node.connections()) {
            connected(c);
        }
        ticker.scheduleWithFixedDelay(this::tick, 200, 200, TimeUnit.MILLISECONDS);
        return done;
    }

    /** Stops early (the future fails with CancellationException); outstanding requests are cancelled. */
    public void cancel() {
        done.completeExceptionally(new CancellationException("fetch of " + model + " cancelled"));
    }

    public synchronized SwarmStats stats() {
        return new SwarmStats(chunks, bytes, rejected, banned, duplicates, timeouts);
    }

    // ---- peers -------------------------------------------------------------------------------------------------

    @Override
    public void connected(PeerConnection c) {
        PeerState p;
        synchronized (this) {
            if (done.isDone() || peers.containsKey(c) || node.bans().isBanned(c.peerId())) {
                return;
            }
            p = new PeerState(c, opts.inFlightPerPeer());
            peers.put(c, p);
        }
        c.getHave(model).whenComplete((hm, e) -> {
            synchronized (this) {
                if (p.dropped) {
                    return;
                }
                if (e != null) {
                    dropPeer(p);
                    return;
                }
                p.have = hm == null ? emptyHave() : conforming(hm.shards());
                if (p.have == null) {
                    dropPeer(p); // a have-map shaped unlike the manifest: not the same model
                    return;
                }
                for (int s = 0; s < p.have.size(); s++) {
                    Bitfield b = p.have.get(s);
                    for (int i = 0; i < b.size(); i++) {
                        if (b.get(i)) {
                            pool.gained(new ChunkKey(s, i));
                        }
                    }
                }
            }
            schedule();
        });
    }

    @Override
    public void disconnected(PeerConnection c) {
        synchronized (this) {
            PeerState p = peers.get(c);
            if (p != null) {
                dropPeer(p);
            }
        }
        schedule();
    }

    @Override
    public void haveChunk(PeerConnection c, ModelHash m, int shard, int chunk) {
        if (!m.equals(model)) {
            return;
        }
        synchronized (this) {
            PeerState p = peers.get(c);
            if (p == null || p.have == null || shard >= p.have.size() || chunk >= p.have.get(shard).size()) {
                return;
            }
            if (p.have.get(shard).set(chunk)) {
                pool.gained(new ChunkKey(shard, chunk));
            }
        }
        schedule();
    }

    private List<Bitfield> emptyHave() {
        List<Bitfield> out = new ArrayList<>();
        for (int n : chunksPerShard) {
            out.add(new Bitfield(n));
        }
        return out;
    }

    private List<Bitfield> conforming(List<Bitfield> have) {
        if (have.size() != chunksPerShard.length) {
            return null;
        }
        List<Bitfield> out = new ArrayList<>();
        for (int s = 0; s < have.size(); s++) {
            if (have.get(s).size() != chunksPerShard[s]) {
                return null;
            }
            out.add(have.get(s).copy());
        }
        return out;
    }

    /** Stops using a peer (held: this). Its outstanding requests fail or are cancelled and get re-queued. */
    private void dropPeer(PeerState p) {
        if (p.dropped) {
            return;
        }
        p.dropped = true;
        peers.remove(p.conn);
        if (p.have != null) {
            for (int s = 0; s < p.have.size(); s++) {
                Bitfield b = p.have.get(s);
                for (int i = 0; i < b.size(); i++) {
                    if (b.get(i)) {
                        pool.lost(new ChunkKey(s, i));
                    }
                }
            }
        }
    }

    // ---- scheduling --------------------------------------------------------------------------------------------

    private void tick() {
        synchronized (this) {
            if (done.isDone()) {
                return;
            }
            for (PeerState p : peers.values()) {
                if (p.limit < opts.inFlightPerPeer()) {
                    p.limit++; // recover slowly from BUSY
                }
            }
            long idle = System.nanoTime() - lastProgress;
            if (inFlight.isEmpty() && verifying.isEmpty() && writing.isEmpty()
                    && idle > opts.stallTimeout().toNanos()) {
                ChunkKey first = remaining.iterator().next();
                done.completeExceptionally(new IOException("fetch of model " + model.hex() + " stalled: no usable peer"
                        + " has " + first + " (" + remaining.size() + " chunks missing, " + peers.size()
                        + " peers connected, " + banned + " banned)"));
                return;
            }
        }
        schedule();
    }

    /** Fills every peer's request window; the requests are sent outside the lock. */
    private void schedule() {
        List<Runnable> sends = new ArrayList<>();
        synchronized (this) {
            if (done.isDone()) {
                return;
            }
            for (PeerState p : peers.values()) {
                while (!p.dropped && p.have != null && p.inFlight < p.limit) {
                    ChunkKey k = pick(p);
                    if (k == null) {
                        break;
                    }
                    sends.add(issue(p, k));
                }
            }
        }
        sends.forEach(Runnable::run);
    }

    /** Rarest chunk this peer has that nobody is fetching; in the endgame, a chunk in flight elsewhere. */
    private ChunkKey pick(PeerState p) {
        ChunkKey best = pool.pick(p::has);
        if (best != null || !pool.isEmpty()) {
            return best;
        }
        int fewest = Integer.MAX_VALUE;
        for (ChunkKey k : remaining) { // endgame: only in-flight chunks remain, so this is short
            List<Outstanding> os = inFlight.get(k);
            if (os == null || verifying.containsKey(k) || writing.contains(k) || !p.has(k) || p.requested.contains(k)
                    || os.size() >= opts.endgameDuplicates()) {
                continue;
            }
            if (os.size() < fewest) {
                best = k;
                fewest = os.size();
            }
        }
        return best;
    }

    private Runnable issue(PeerState p, ChunkKey k) {
        CompletableFuture<Message.Piece> f = new CompletableFuture<>();
        Outstanding o = new Outstanding(p, f);
        pool.take(k);
        inFlight.computeIfAbsent(k, x -> new ArrayList<>()).add(o);
        p.inFlight++;
        p.requested.add(k);
        return () -> {
            CompletableFuture<Message.Piece> wire = p.conn.request(model, k.shard(), k.chunk());
            wire.whenComplete((piece, e) -> {
                if (e != null) {
                    f.completeExceptionally(e);
                } else if (!f.complete(piece)) {
                    piece.release();
                }
            });
            f.whenComplete((piece, e) -> {
                if (f.isCancelled()) {
                    wire.cancel(false); // sends CANCEL: the peer drops it if still queued
                }
                result(o, k, piece, e);
            });
        };
    }

    private void result(Outstanding o, ChunkKey k, Message.Piece piece, Throwable e) {
        PeerState p = o.peer();
        synchronized (this) {
            if (e != null) {
                p.inFlight--; // a received chunk keeps its window slot until verified: memory stays bounded
            }
            p.requested.remove(k);
            List<Outstanding> os = inFlight.get(k);
            if (os != null) {
                os.remove(o);
                if (os.isEmpty()) {
                    inFlight.remove(k);
                }
            }
            if (e != null) {
                Throwable cause = e instanceof CompletionException ce && ce.getCause() != null ? ce.getCause() : e;
                if (cause instanceof TimeoutException) {
                    timeouts++;
                    if (++p.timeouts >= opts.timeoutsBeforeDrop()) {
                        dropPeer(p);
                    }
                } else if (cause instanceof RequestRejectedException r) {
                    if (r.reason() == Message.Reject.BUSY) {
                        p.limit = Math.max(1, p.inFlight);
                    } else if (p.has(k)) {
                        p.have.get(k.shard()).clear(k.chunk()); // it claimed the chunk but has not got it
                        pool.lost(k);
                    }
                } else if (cause instanceof java.nio.channels.ClosedChannelException) {
                    dropPeer(p);
                }
                requeue(k);
            } else {
                verifying.merge(k, 1, Integer::sum); // in the same step as leaving inFlight: never re-picked
            }
        }
        if (e != null) {
            if (!done.isDone()) {
                schedule();
            }
            return;
        }
        try {
            verifiers.execute(() -> verifyAndStore(p, k, piece));
        } catch (java.util.concurrent.RejectedExecutionException rex) {
            piece.release(); // swarm already finished
            synchronized (this) {
                p.inFlight--;
                verifying.computeIfPresent(k, (x, n) -> n > 1 ? n - 1 : null);
            }
        }
    }

    private void verifyAndStore(PeerState p, ChunkKey k, Message.Piece piece) {
        try {
            ShardInfo s = files.get(k.shard());
            ByteBuf data = piece.content();
            long want = s.chunkLength(k.chunk(), manifest.chunkSize());
            // without chunk hashes (a DOPPLER manifest) only the length can be checked here; see the class comment
            boolean ok = piece.shard() == k.shard() && piece.chunk() == k.chunk() && data.readableBytes() == want
                    && (!manifest.hasChunkHashes() || Blake3.hashHex(MemorySegment.ofBuffer(data.nioBuffer()))
                    .equals(s.chunks().get(k.chunk())));
            if (!ok) {
                synchronized (this) {
                    rejected++;
                    if (!p.dropped) {
                        banned++;
                    }
                    dropPeer(p);
                }
                node.ban(p.conn, "sent a bad " + k + " of model " + model);
                schedule();
                return;
            }
            synchronized (this) {
                if (done.isDone()) {
                    return; // finished, failed or cancelled: nothing may reach the sink any more
                }
                if (!remaining.contains(k) || !writing.add(k)) {
                    duplicates++;
                    return;
                }
            }
            ByteBuffer bb = data.nioBuffer();
            try {
                sink.accept(k, bb);
            } catch (IOException | RuntimeException ex) {
                synchronized (this) {
                    writing.remove(k);
                }
                done.completeExceptionally(ex);
                return;
            }
            List<Outstanding> losers;
            synchronized (this) {
                writing.remove(k);
                remaining.remove(k);
                chunks++;
                bytes += want;
                lastProgress = System.nanoTime();
                losers = inFlight.containsKey(k) ? List.copyOf(inFlight.get(k)) : List.of();
                if (remaining.isEmpty()) {
                    done.complete(stats());
                }
            }
            for (Outstanding o : losers) {
                o.future().cancel(false);
            }
            schedule();
        } catch (RuntimeException ex) {
            done.completeExceptionally(ex);
        } finally {
            piece.release();
            boolean requeued;
            synchronized (this) {
                p.inFlight--;
                verifying.computeIfPresent(k, (x, n) -> n > 1 ? n - 1 : null);
                requeued = requeue(k);
            }
            if (requeued) {
                schedule(); // a rejected chunk goes back to the pool
            }
        }
    }

    /** Back into the pool when still wanted and nobody is fetching, verifying or writing it (held: this). */
    private boolean requeue(ChunkKey k) {
        if (remaining.contains(k) && !inFlight.containsKey(k) && !verifying.containsKey(k) && !writing.contains(k)) {
            pool.offer(k);
            return true;
        }
        return false;
    }

    private void shutdown() {
        node.removeListener(this);
        ticker.shutdownNow();
        List<Outstanding> all = new ArrayList<>();
        synchronized (this) {
            inFlight.values().forEach(all::addAll);
        }
        for (Outstanding o : all) {
            o.future().cancel(false);
        }
        verifiers.shutdown();
    }

    /** Waits for the verifier threads to finish after the swarm is done (tests check for leaked threads). */
    public boolean awaitQuiet(long millis) throws InterruptedException {
        return verifiers.awaitTermination(millis, TimeUnit.MILLISECONDS);
    }
}
