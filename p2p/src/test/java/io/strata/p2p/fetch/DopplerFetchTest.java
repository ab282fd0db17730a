package io.strata.p2p.fetch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.core.manifest.Manifest;
import io.strata.core.manifest.ManifestCodec;
import io.strata.p2p.Countdown;
import io.strata.p2p.Mesh;
import io.strata.p2p.NettyLeaks;
import io.strata.p2p.Responders;
import io.strata.p2p.node.PeerNode;
import io.strata.p2p.store.LocalModel;
import io.strata.p2p.wire.ModelHash;
import io.strata.storage.model.ModelVerifier;
import io.strata.testdata.TestData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A peer node serves a model DOPPLER wrote (sha256 manifest, no chunk hashes, a tensor split across two shards) and
 * {@code fetch} of it checks every received shard against its SHA-256: an honest seed gives a directory that
 * verifies and equals the origin byte for byte; a seed that flips a bit makes the fetch fail naming the shard, with
 * nothing left behind. Paging such a model from peers chunk by chunk, and fetching a DOPPLER blake3 model, are
 * refused with the reason.
 */
class DopplerFetchTest {
    static {
        NettyLeaks.install();
    }

    private static final Path ORIGIN = TestData.dir("fixtures/doppler").resolve("tiny-mixtral-f16");

    @AfterAll
    static void noLeaks() throws InterruptedException {
        NettyLeaks.assertNoStrataThreads();
        NettyLeaks.assertNoLeaks();
    }

    @Test
    void fetchOfADopplerModelVerifiesAndEqualsTheOrigin(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("out");
        try (Mesh mesh = new Mesh()) {
            PeerNode seed = mesh.start();
            LocalModel served = LocalModel.openServing(ORIGIN, null);
            seed.models().add(served);
            PeerNode fetcher = mesh.start();
            assertEquals(1, ModelFetcher.connectAll(fetcher, List.of(seed.listenAddress()), Mesh.WAIT));
            ManifestSource.Obtained m = ManifestSource.fromPeers(fetcher, served.hash(), null, Mesh.WAIT);
            ModelFetcher.Result r = new ModelFetcher(fetcher, Mesh.swarm()).fetch(m, out, Mesh.WAIT);
            assertTrue(r.model().isComplete());
            assertEquals(2, r.stats().chunks(), "each 256 KiB shard moves as one piece");
        }
        for (String f : List.of("manifest.json", "shard_00000.bin", "shard_00001.bin")) {
            assertArrayEquals(Files.readAllBytes(ORIGIN.resolve(f)), Files.readAllBytes(out.resolve(f)), f);
        }
        ModelVerifier.Report v = ModelVerifier.verify(out, x -> { });
        assertTrue(v.ok(), v.problems().toString());
        assertEquals(41, v.tensors());
    }

    @Test
    void aSeedThatFlipsABitFailsTheFetchNamingTheShard(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("out");
        Files.createDirectories(out);
        try (Mesh mesh = new Mesh()) {
            PeerNode seed = mesh.start(Mesh.config().responder(Responders.flipping(new Countdown(1))));
            LocalModel served = LocalModel.openServing(ORIGIN, null);
            seed.models().add(served);
            PeerNode fetcher = mesh.start();
            assertEquals(1, ModelFetcher.connectAll(fetcher, List.of(seed.listenAddress()), Mesh.WAIT));
            ManifestSource.Obtained m = ManifestSource.fromPeers(fetcher, served.hash(), null, Mesh.WAIT);
            IOException e = assertThrows(IOException.class,
                    () -> new ModelFetcher(fetcher, Mesh.swarm()).fetch(m, out, Mesh.WAIT));
            assertTrue(e.getMessage().contains("shard_0000"), e.getMessage());
            assertTrue(e.getMessage().contains("does not match the manifest's"), e.getMessage());
        }
        try (var left = Files.list(out)) {
            assertEquals(List.of(), left.toList(), "no partial output");
        }
    }

    @Test
    void pagingFromPeersAndFetchingDopplerBlake3AreRefusedWithTheReason(@TempDir Path tmp) throws Exception {
        Manifest m = ManifestCodec.read(ORIGIN);
        byte[] json = Files.readAllBytes(ORIGIN.resolve("manifest.json"));
        try (Mesh mesh = new Mesh()) {
            PeerNode node = mesh.start();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new MeshPeerTier(node,
                    ModelHash.ofManifest(json), m, Mesh.swarm(), Mesh.WAIT));
            assertTrue(e.getMessage().contains("no per-chunk hashes"), e.getMessage());
            assertTrue(e.getMessage().contains("strata fetch"), e.getMessage());
        }
        Path b3 = TestData.dir("fixtures/doppler").resolve("tiny-mixtral-f16-blake3");
        byte[] b3json = Files.readAllBytes(b3.resolve("manifest.json"));
        Path out = tmp.resolve("b3");
        IOException e = assertThrows(IOException.class, () -> LocalModel.createReceiving(out, b3json,
                ManifestCodec.fromBytes(b3json, "b3"), null, false));
        assertTrue(e.getMessage().contains("DOPPLER's blake3, which is not standard BLAKE3"), e.getMessage());
        assertFalse(Files.exists(out) && Files.list(out).findAny().isPresent(), "nothing written");
    }
}
