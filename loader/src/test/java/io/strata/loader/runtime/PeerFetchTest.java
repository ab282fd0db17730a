package io.strata.loader.runtime;

import io.strata.core.model.ExpertProjection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.core.manifest.Manifest;
import io.strata.core.manifest.ShardInfo;
import io.strata.core.model.Layout;
import io.strata.core.model.ModelFamily;
import io.strata.core.model.Tier;
import io.strata.core.telemetry.TelemetrySnapshot;
import io.strata.loader.cache.ExpertHandle;
import io.strata.core.weights.PeerTier;
import io.strata.storage.model.ConvertedModel;
import io.strata.storage.safetensors.Checkpoint;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** No model directory: experts come from a peer tier, are verified, land in the disk cache and survive the run. */
class PeerFetchTest {
    @TempDir
    Path tmp;

    /** A stand-in for the p2p module: serves chunks of a converted model's shards, optionally flipping a byte. */
    static final class FilePeer implements PeerTier {
        final ConvertedModel model;
        final boolean corrupt;
        final AtomicLong chunks = new AtomicLong();

        FilePeer(ConvertedModel model, boolean corrupt) {
            this.model = model;
            this.corrupt = corrupt;
        }

        @Override
        public void fetchChunks(int shard, int firstChunk, int chunkCount, MemorySegment dst) throws IOException {
            Manifest m = model.manifest();
            ShardInfo s = m.shard(shard);
            long start = s.chunkStart(firstChunk, m.chunkSize());
            MemorySegment.copy(model.shardSegment(shard), start, dst, 0, dst.byteSize());
            if (corrupt) {
                dst.set(ValueLayout.JAVA_BYTE, 0, (byte) (dst.get(ValueLayout.JAVA_BYTE, 0) ^ 1));
            }
            chunks.addAndGet(chunkCount);
        }
    }

    @Test
    void expertsComeFromPeersVerifiedAndPersistInTheDiskCache() throws Exception {
        TestModels.Model m = TestModels.mixtral(tmp, 2, 4, 64, 96, Layout.ROW, 1);
        Path cache = tmp.resolve("cache");
        RuntimeOptions o = RuntimeOptions.builder().cacheDir(cache).diskBudget(64 << 20).hostBudget(16 << 20)
                .prefetch(false).build();
        try (ConvertedModel remote = ConvertedModel.open(m.converted());
             Checkpoint src = Checkpoint.open(m.source())) {
            FilePeer peer = new FilePeer(remote, false);
            try (ModelRuntime rt = ModelRuntime.open(remote.manifest(), remote.manifestHash(), peer, o)) {
                for (int e = 0; e < 4; e++) {
                    try (ExpertHandle h = rt.expert(1, e)) {
                        String name = TestModels.expertTensor(ModelFamily.MIXTRAL, 1, e, "w2");
                        assertEquals(-1, src.tensor(name).data().mismatch(h.tensor(ExpertProjection.ofKey("w2")).data()), name);
                    }
                }
                String dense = "model.layers.0.self_attn.k_proj.weight";
                assertEquals(-1, src.tensor(dense).data().mismatch(rt.dense(dense).data()));
                TelemetrySnapshot t = rt.telemetry();
                assertEquals(5, t.tier(Tier.PEER).hits());
                assertTrue(peer.chunks.get() > 0);
            }
            long before = peer.chunks.get();
            try (ModelRuntime rt = ModelRuntime.open(remote.manifest(), remote.manifestHash(), peer, o)) {
                for (int e = 0; e < 4; e++) {
                    rt.expert(1, e).close();
                }
                assertEquals(4, rt.telemetry().tier(Tier.DISK).hits());
                assertEquals(0, rt.telemetry().tier(Tier.PEER).hits());
                assertEquals(before, peer.chunks.get(), "second run asked no peer");
            }
        }
    }

    @Test
    void corruptPeerBytesAreRejectedAndNeverCached() throws Exception {
        TestModels.Model m = TestModels.mixtral(tmp, 1, 2, 64, 96, Layout.ROW, 1);
        Path cache = tmp.resolve("cache");
        RuntimeOptions o = RuntimeOptions.builder().cacheDir(cache).diskBudget(64 << 20).hostBudget(16 << 20)
                .prefetch(false).build();
        try (ConvertedModel remote = ConvertedModel.open(m.converted());
             ModelRuntime rt = ModelRuntime.open(remote.manifest(), remote.manifestHash(), new FilePeer(remote, true),
                     o)) {
            RuntimeException e = assertThrows(RuntimeException.class, () -> rt.expert(0, 1));
            assertTrue(e.getMessage().contains("hash"), e.getMessage());
            assertEquals(0, rt.ledger(Tier.DISK).used());
            assertEquals(0, rt.ledger(Tier.HOST).used(), "the failed load released its reservation");
        }
    }
}
