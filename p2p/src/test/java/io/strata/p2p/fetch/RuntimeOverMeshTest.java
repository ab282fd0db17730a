package io.strata.p2p.fetch;

import io.strata.testdata.TestData;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.strata.core.manifest.GroupInfo;
import io.strata.core.model.ExpertId;
import io.strata.core.model.Tier;
import io.strata.loader.cache.ExpertHandle;
import io.strata.loader.runtime.ModelRuntime;
import io.strata.loader.runtime.RuntimeOptions;
import io.strata.p2p.Mesh;
import io.strata.p2p.NettyLeaks;
import io.strata.p2p.node.PeerNode;
import io.strata.p2p.store.LocalModel;
import io.strata.p2p.wire.ModelHash;
import io.strata.storage.convert.ConvertOptions;
import io.strata.storage.convert.ShardConverter;
import io.strata.storage.model.ConvertedModel;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The runtime with no local model: experts missing from host and disk come from the mesh, verified. */
class RuntimeOverMeshTest {
    static {
        NettyLeaks.install();
    }

    static final Path FIXTURE = TestData.dir("fixtures/tiny-mixtral-f32");

    @AfterAll
    static void noLeaks() throws InterruptedException {
        NettyLeaks.assertNoStrataThreads();
        NettyLeaks.assertNoLeaks();
    }

    @Test
    void expertsMissingLocallyAreFetchedFromPeersChunkByChunk(@TempDir Path tmp) throws Exception {
        Path converted = tmp.resolve("converted");
        ShardConverter.Result conv = ShardConverter.convert(FIXTURE, converted,
                ConvertOptions.defaults().withChunkSize(16 << 10).withShardSize(256 << 10),
                new io.strata.storage.convert.ProgressListener() { });
        try (Mesh mesh = new Mesh(); ConvertedModel origin = ConvertedModel.open(converted)) {
            PeerNode seed = mesh.start();
            seed.models().add(LocalModel.openServing(converted, null));
            PeerNode runtimeNode = mesh.start();
            ModelFetcher.connectAll(runtimeNode, List.of(seed.listenAddress()), Mesh.WAIT);
            ModelHash hash = ModelHash.parse(conv.manifestHash());
            MeshPeerTier tier = new MeshPeerTier(runtimeNode, hash, conv.manifest(), Mesh.swarm(), Mesh.WAIT);
            RuntimeOptions o = RuntimeOptions.builder().cacheDir(tmp.resolve("cache")).diskBudget(64 << 20)
                    .hostBudget(16 << 20).prefetch(false).build();
            try (ModelRuntime rt = ModelRuntime.open(conv.manifest(), conv.manifestHash(), tier, o)) {
                long served0 = seed.chunksServed();
                ExpertId id = new ExpertId(1, 2);
                GroupInfo g = conv.manifest().expertGroup(id).orElseThrow();
                try (ExpertHandle h = rt.expert(1, 2)) {
                    assertEquals(-1, origin.group(id.groupName()).mismatch(h.bytes()), "expert bytes from the mesh");
                }
                long chunkSize = conv.manifest().chunkSize();
                long covering = (g.offset() + g.size() - 1) / chunkSize - g.offset() / chunkSize + 1;
                assertEquals(covering, seed.chunksServed() - served0, "only the chunks covering the expert");
                assertEquals(1, rt.telemetry().tier(Tier.PEER).hits());
            }
        }
    }
}
