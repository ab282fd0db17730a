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

/**
 * Fetches a whole model into a directory: verified chunks go into {@code <shard>.part} files, each shard is renamed
 * to its final name once its whole-file hash matches, and manifest.json (with manifest.sig) is written last. While
 * fetching, the node serves the chunks it already has to the rest of the mesh. On failure the .part files are
 * deleted: no partial output is left behind.
 */
public final class ModelFetcher {
    private final PeerNode node;
    private final SwarmOptions opts;

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

    /** Fetches {@code m} into {@code dir}, waiting at most {@code timeout}. */
    public Result fetch(ManifestSource.Obtained m, Path dir, Duration timeout) throws IOException {
        long t0 = System.nanoTime();
        LocalModel local = LocalModel.createReceiving(dir, m.json(), m.manifest(), m.signature());
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
        boolean ok = false;
        try {
            SwarmStats stats = swarm.start().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            for (LocalShard s : local.shards()) {
                local.finishShard(s.info().index()); // shards with no chunks to fetch (empty or already there)
            }
            local.publishManifest();
            ok = true;
            return new Result(local, stats, (System.nanoTime() - t0) / 1e9);
        } catch (TimeoutException e) {
            throw new IOException("fetch of model " + local.hash().hex() + " did not finish within "
                    + timeout.toSeconds() + " s (" + swarm.stats().chunks() + " of " + wanted.size()
                    + " chunks)", e);
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
