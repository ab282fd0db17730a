package io.strata.p2p.fetch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.p2p.Mesh;
import io.strata.p2p.NettyLeaks;
import io.strata.p2p.TestModels;
import io.strata.p2p.identity.ManifestSignature;
import io.strata.p2p.identity.NodeIdentity;
import io.strata.p2p.node.PeerNode;
import io.strata.p2p.store.LocalModel;
import io.strata.p2p.wire.ModelHash;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FetchTest {
    static {
        NettyLeaks.install();
    }

    private static final long CHUNK = 16 << 10;

    @AfterAll
    static void noLeaks() throws InterruptedException {
        NettyLeaks.assertNoStrataThreads();
        NettyLeaks.assertNoLeaks();
    }

    @Test
    void threeNodesFetchConcurrentlyFromOneSeedAndEachOther(@TempDir Path tmp) throws Exception {
        Path origin = tmp.resolve("origin");
        ModelHash hash = TestModels.write(origin, CHUNK, 1, 700_000, 333_333, 1, 0, 2 * CHUNK);
        try (Mesh mesh = new Mesh()) {
            PeerNode seed = mesh.start();
            seed.models().add(LocalModel.openServing(origin, null));
            List<PeerNode> fetchers = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                fetchers.add(mesh.start());
            }
            ExecutorService pool = Executors.newFixedThreadPool(3);
            try {
                List<Future<ModelFetcher.Result>> results = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    PeerNode n = fetchers.get(i);
                    Path out = tmp.resolve("out" + i);
                    results.add(pool.submit(() -> {
                        assertEquals(1, ModelFetcher.connectAll(n, List.of(seed.listenAddress()), Mesh.WAIT));
                        ManifestSource.Obtained m = ManifestSource.fromPeers(n, hash, null, Mesh.WAIT);
                        return new ModelFetcher(n, Mesh.swarm()).fetch(m, out, Mesh.WAIT);
                    }));
                }
                long chunks = 0;
                for (int i = 0; i < 3; i++) {
                    ModelFetcher.Result r = results.get(i).get(60, TimeUnit.SECONDS);
                    assertEquals(0, r.stats().rejected());
                    chunks += r.stats().chunks();
                    assertNull(TestModels.verify(origin, tmp.resolve("out" + i)), "fetcher " + i);
                    assertTrue(r.model().isComplete());
                }
                int perModel = (int) (Math.ceil(700_000.0 / CHUNK) + Math.ceil(333_333.0 / CHUNK) + 1 + 2);
                assertEquals(3L * perModel, chunks, "every chunk fetched exactly once per fetcher");
            } finally {
                pool.shutdownNow();
            }
            assertTrue(seed.chunksServed() > 0);
        }
    }

    @Test
    void fetchByLocalManifestFileAndResumeKeepsCompleteShards(@TempDir Path tmp) throws Exception {
        Path origin = tmp.resolve("origin");
        TestModels.write(origin, CHUNK, 2, 100_000, 50_000);
        Path out = tmp.resolve("out");
        Files.createDirectories(out);
        Files.copy(origin.resolve("shard_00000.bin"), out.resolve("shard_00000.bin"));
        Path stale = out.resolve(".strata-fetch-" + ProcessHandle.current().pid() + "-1-00ff"); // a killed fetch's
        Files.createDirectories(stale);
        Files.write(stale.resolve("shard_00001.bin"), new byte[]{1, 2, 3});
        try (Mesh mesh = new Mesh()) {
            PeerNode seed = mesh.start();
            seed.models().add(LocalModel.openServing(origin, null));
            PeerNode n = mesh.start();
            ModelFetcher.connectAll(n, List.of(seed.listenAddress()), Mesh.WAIT);
            ManifestSource.Obtained m = ManifestSource.fromFile(origin.resolve("manifest.json"), null);
            ModelFetcher.Result r = new ModelFetcher(n, Mesh.swarm()).fetch(m, out, Mesh.WAIT);
            assertEquals((50_000 + CHUNK - 1) / CHUNK, r.stats().chunks(), "only the missing shard is fetched");
            assertNull(TestModels.verify(origin, out));
        }
    }

    @Test
    void trustRefusesUnsignedAndWronglySignedManifests(@TempDir Path tmp) throws Exception {
        Path signed = tmp.resolve("signed");
        Path unsigned = tmp.resolve("unsigned");
        NodeIdentity publisher = NodeIdentity.generate();
        NodeIdentity stranger = NodeIdentity.generate();
        ModelHash hs = TestModels.write(signed, CHUNK, 3, 40_000);
        ManifestSignature.sign(publisher, Files.readAllBytes(signed.resolve("manifest.json"))).write(signed);
        ModelHash hu = TestModels.write(unsigned, CHUNK, 4, 40_000);
        try (Mesh mesh = new Mesh()) {
            PeerNode seed = mesh.start();
            seed.models().add(LocalModel.openServing(signed, null));
            seed.models().add(LocalModel.openServing(unsigned, null));
            PeerNode n = mesh.start();
            ModelFetcher.connectAll(n, List.of(seed.listenAddress()), Mesh.WAIT);
            Duration t = Duration.ofSeconds(5);
            IOException e1 = assertThrows(IOException.class,
                    () -> ManifestSource.fromPeers(n, hu, publisher.publicKey(), t));
            assertTrue(e1.getMessage().contains("not signed"), e1.getMessage());
            IOException e2 = assertThrows(IOException.class,
                    () -> ManifestSource.fromPeers(n, hs, stranger.publicKey(), t));
            assertTrue(e2.getMessage().contains("not signed by the trusted key"), e2.getMessage());
            ManifestSource.Obtained ok = ManifestSource.fromPeers(n, hs, publisher.publicKey(), t);
            Path out = tmp.resolve("out");
            new ModelFetcher(n, Mesh.swarm()).fetch(ok, out, Mesh.WAIT);
            assertNull(TestModels.verify(signed, out));
            assertTrue(ManifestSignature.read(out).verifies(Files.readAllBytes(out.resolve("manifest.json")),
                    publisher.publicKey()), "the signature travels with the model");
            assertThrows(IOException.class, () -> ManifestSource.fromFile(unsigned.resolve("manifest.json"),
                    publisher.publicKey()));
        }
    }

    @Test
    void fetchWithNoSeedFailsAndLeavesNothingBehind(@TempDir Path tmp) throws Exception {
        Path origin = tmp.resolve("origin");
        TestModels.write(origin, CHUNK, 5, 60_000);
        Path out = tmp.resolve("out");
        try (Mesh mesh = new Mesh()) {
            PeerNode empty = mesh.start(); // connected, but has nothing
            PeerNode n = mesh.start();
            ModelFetcher.connectAll(n, List.of(empty.listenAddress()), Mesh.WAIT);
            ManifestSource.Obtained m = ManifestSource.fromFile(origin.resolve("manifest.json"), null);
            ModelFetcher f = new ModelFetcher(n, Mesh.swarm().withStallTimeout(Duration.ofMillis(500)));
            IOException e = assertThrows(IOException.class, () -> f.fetch(m, out, Mesh.WAIT));
            assertTrue(e.getMessage().contains("stalled"), e.getMessage());
            assertFalse(Files.exists(out), "no partial output, not even the directory the fetch created");
            assertFalse(CompletableFuture.completedFuture(n.models().get(m.hash())).join() != null);
        }
    }

    @Test
    void aNodeServesEveryModelInItsCacheDirUnderAnUploadCap(@TempDir Path tmp) throws Exception {
        Path cache = tmp.resolve("cache");
        ModelHash a = TestModels.write(cache.resolve("a"), CHUNK, 6, 3 * CHUNK);
        ModelHash b = TestModels.write(cache.resolve("b"), CHUNK, 7, 48 * CHUNK);
        Files.createDirectories(cache.resolve("not-a-model"));
        Files.createDirectories(cache.resolve("broken"));
        Files.writeString(cache.resolve("broken").resolve("manifest.json"), "{ nope");
        long cap = 256 << 10;
        try (Mesh mesh = new Mesh()) {
            PeerNode seed = mesh.start(Mesh.config().maxUpload(cap));
            assertEquals(2, seed.models().addCacheDir(cache), "two models; the rest is skipped");
            PeerNode n = mesh.start();
            ModelFetcher.connectAll(n, List.of(seed.listenAddress()), Mesh.WAIT);
            new ModelFetcher(n, Mesh.swarm()).fetch(ManifestSource.fromPeers(n, a, null, Mesh.WAIT),
                    tmp.resolve("outA"), Mesh.WAIT);
            assertNull(TestModels.verify(cache.resolve("a"), tmp.resolve("outA")));
            ModelFetcher.Result r = new ModelFetcher(n, Mesh.swarm()).fetch(
                    ManifestSource.fromPeers(n, b, null, Mesh.WAIT), tmp.resolve("outB"), Mesh.WAIT);
            assertNull(TestModels.verify(cache.resolve("b"), tmp.resolve("outB")));
            // 768 KiB at 256 KiB/s: the shaper must stretch it well beyond an unthrottled loopback copy
            assertTrue(r.seconds() >= 1.5, "--max-upload honoured: took " + r.seconds() + " s");
        }
    }
}
