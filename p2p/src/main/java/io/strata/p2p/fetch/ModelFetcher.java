package io.strata.p2p.fetch;

import io.strata.p2p.node.PeerNode;
import io.strata.p2p.store.ChunkKey;
import io.strata.p2p.store.LocalModel;
import io.strata.p2p.store.LocalShard;
import io.strata.p2p.wire.PeerAddress;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Fetches a whole model into a directory: verified chunks go into files in a private staging directory inside it,
 * each shard's whole-file hash is checked, and only then are the shards, manifest.sig and last manifest.json moved
 * into place (see {@code LocalModel}, {@code OutputStaging}). Files of those names already there are never
 * overwritten unless asked. While fetching, the node serves the chunks it already has to the rest of the mesh. On
 * failure or {@link #cancel()} (a signal handler's job) the staging directory is deleted: no partial output is left.
 */
public final class ModelFetcher {
    private final PeerNode node;
    private final SwarmOptions opts;
    /** Held by a running fetch until its output is published or cleaned up. */
    private final ReentrantLock running = new ReentrantLock();
    private volatile boolean cancelled;
    private volatile ChunkSwarm swarm;

    /** What a finished fetch did. */
    public record Result(LocalModel model, SwarmStats stats, double seconds) {
    }

    public ModelFetcher(PeerNode node, SwarmOptions opts) {
        this.node = node;
        this.opts = opts;
    }

    /** Dials every address; returns how many handshakes succeeded (failures are counted, not thrown). */
    public static int connectAll(PeerNode node, List<PeerAddress> peers, Duration timeout) {
        List<CompletableFuture<?>> fs = new ArrayList<>();
        for (PeerAddress a : peers) {
            fs.add(node.connect(a));
        }
        int ok = 0;
        for (CompletableFuture<?> f : fs) {
            try {
                f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                ok++;
            } catch (ExecutionException | TimeoutException e) {
                // an unreachable bootstrap peer is not fatal while others answer
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return ok;
    }

    /** Fetches {@code m} into {@code dir}, waiting at most {@code timeout}; refuses to overwrite other files. */
    public Result fetch(ManifestSource.Obtained m, Path dir, Duration timeout) throws IOException {
        return fetch(m, dir, timeout, false);
    }

    /**
     * Stops a running fetch (or the next one) and waits up to {@code wait} until its staging directory is gone or
     * its output fully published; returns false when it did not settle in time.
     */
    public boolean cancel(Duration wait) {
        cancelled = true;
        ChunkSwarm s = swarm;
        if (s != null) {
            s.cancel();
        }
        try {
            if (running.tryLock(wait.toMillis(), TimeUnit.MILLISECONDS)) {
                running.unlock();
                return true;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return false;
    }

    /**
     * Fetches {@code m} into {@code dir}, waiting at most {@code timeout}. Files in {@code dir} with the names of the
     * model's files that hold something else are replaced only when {@code replace}.
     */
    public Result fetch(ManifestSource.Obtained m, Path dir, Duration timeout, boolean replace) throws IOException {
        running.lock();
        try {
            if (cancelled) {
                throw new IOException("fetch of model " + m.hash().hex() + " cancelled");
            }
            return fetchLocked(m, dir, timeout, replace);
        } finally {
            running.unlock();
        }
    }

    private Result fetchLocked(ManifestSource.Obtained m, Path dir, Duration timeout, boolean replace)
            throws IOException {
        long t0 = System.nanoTime();
        LocalModel local = LocalModel.createReceiving(dir, m.json(), m.manifest(), m.signature(), replace);
        node.models().add(local);
        List<ChunkKey> wanted = new ArrayList<>();
        for (LocalShard s : local.shards()) {
            for (int c = 0; c < s.chunkCount(); c++) {
                if (!s.have().get(c)) {
                    wanted.add(new ChunkKey(s.info().index(), c));
                }
            }
        }
        ChunkSink sink = (k, bytes) -> {
            boolean shardDone = local.writeVerified(k, bytes);
            node.announce(local.hash(), k.shard(), k.chunk());
            if (shardDone) {
                local.finishShard(k.shard());
            }
        };
        ChunkSwarm swarm = new ChunkSwarm(node, local.hash(), m.manifest(), wanted, sink, opts);
        this.swarm = swarm;
        boolean ok = false;
        try {
            if (cancelled) {
                swarm.cancel(); // cancelled before the swarm was visible to cancel()
            }
            SwarmStats stats = swarm.start().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            for (LocalShard s : local.shards()) {
                local.finishShard(s.info().index()); // shards with no chunks to fetch (empty or already there)
            }
            if (cancelled) {
                throw new IOException("fetch of model " + local.hash().hex() + " cancelled");
            }
            local.publishManifest();
            ok = true;
            return new Result(local, stats, (System.nanoTime() - t0) / 1e9);
        } catch (TimeoutException e) {
            throw new IOException("fetch of model " + local.hash().hex() + " did not finish within "
                    + timeout.toSeconds() + " s (" + swarm.stats().chunks() + " of " + wanted.size()
                    + " chunks)", e);
        } catch (java.util.concurrent.CancellationException e) {
            throw new IOException("fetch of model " + local.hash().hex() + " cancelled", e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            throw c instanceof IOException io ? io : new IOException("fetch of model " + local.hash().hex()
                    + " failed: " + c, c);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("fetch of model " + local.hash().hex() + " interrupted", e);
        } finally {
            if (!ok) {
                swarm.cancel();
                node.models().remove(local.hash());
                awaitQuietly(swarm);
                local.abandon();
            } else {
                awaitQuietly(swarm);
            }
        }
    }

    private static void awaitQuietly(ChunkSwarm swarm) {
        try {
            swarm.awaitQuiet(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
