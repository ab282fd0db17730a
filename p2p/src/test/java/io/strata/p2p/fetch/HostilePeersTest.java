package io.strata.p2p.fetch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.p2p.Mesh;
import io.strata.p2p.NettyLeaks;
import io.strata.p2p.Responders;
import io.strata.p2p.TestModels;
import io.strata.p2p.node.PeerConnection;
import io.strata.p2p.node.PeerNode;
import io.strata.p2p.store.LocalModel;
import io.strata.p2p.wire.ModelHash;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import io.strata.p2p.Countdown;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostilePeersTest {
    static {
        NettyLeaks.install();
    }

    private static final long CHUNK = 8 << 10;

    @AfterAll
    static void noLeaks() throws InterruptedException {
        NettyLeaks.assertNoStrataThreads();
        NettyLeaks.assertNoLeaks();
    }

    @Test
    void badChunksAreRejectedTheirSendersBannedAndTheFetchCompletesFromTheHonestPeer(@TempDir Path tmp)
            throws Exception {
        Path origin = tmp.resolve("origin");
        ModelHash hash = TestModels.write(origin, CHUNK, 11, 40 * CHUNK + 5, 30 * CHUNK);
        Countdown badAsked = new Countdown(3);
        // The honest peer answers only once the fetcher has dropped all three bad peers: answering as soon as they
        // were asked would let the fetch finish before a bad piece is seen, and that peer would go unbanned.
        CompletableFuture<Void> gate = new CompletableFuture<>();
        try (Mesh mesh = new Mesh()) {
            PeerNode honest = mesh.start(Mesh.config().responder(Responders.gated(gate)));
            PeerNode flipper = mesh.start(Mesh.config().responder(Responders.flipping(badAsked)));
            PeerNode shorter = mesh.start(Mesh.config().responder(Responders.shortening(badAsked)));
            PeerNode garbler = mesh.start(Mesh.config().responder(Responders.garbage(badAsked)));
            for (PeerNode n : List.of(honest, flipper, shorter, garbler)) {
                n.models().add(LocalModel.openServing(origin, null));
            }
            PeerNode fetcher = mesh.start();
            Mesh.dropped(fetcher, flipper.id(), shorter.id(), garbler.id()).thenRun(() -> gate.complete(null));
            assertEquals(4, ModelFetcher.connectAll(fetcher, List.of(honest.listenAddress(),
                    flipper.listenAddress(), shorter.listenAddress(), garbler.listenAddress()), Mesh.WAIT));
            ManifestSource.Obtained m = ManifestSource.fromPeers(fetcher, hash, null, Mesh.WAIT);
            Path out = tmp.resolve("out");
            ModelFetcher.Result r = new ModelFetcher(fetcher, Mesh.swarm()).fetch(m, out, Mesh.WAIT);

            assertEquals(0, badAsked.count(), "every bad peer was asked");
            assertNull(TestModels.verify(origin, out), "output identical to the origin");
            assertTrue(r.stats().rejected() >= 2, "flipped and short chunks rejected: " + r.stats());
            for (PeerNode bad : List.of(flipper, shorter, garbler)) {
                assertTrue(fetcher.bans().isBanned(bad.id()), bad.id() + " banned");
                assertFalse(fetcher.connections().stream().map(PeerConnection::peerId).toList().contains(bad.id()),
                        "banned peer disconnected");
                // and it cannot come back: the fetcher refuses its id at the handshake
                ExecutionException e = assertThrows(ExecutionException.class,
                        () -> bad.connect(fetcher.listenAddress()).get(10, TimeUnit.SECONDS));
                assertTrue(e.getCause().getMessage().contains("closed before the handshake completed")
                        || e.getCause().getMessage().contains("refused"), e.getCause().getMessage());
            }
            assertFalse(fetcher.bans().isBanned(honest.id()));
            assertTrue(fetcher.protocolErrors() >= 1, "the garbage frame was a protocol error");
        }
    }

    @Test
    void aSeedKilledMidTransferLeavesTheFetchToTheOthers(@TempDir Path tmp) throws Exception {
        Path origin = tmp.resolve("origin");
        ModelHash hash = TestModels.write(origin, CHUNK, 12, 120 * CHUNK);
        Countdown servedK = new Countdown(1);
        CompletableFuture<Void> victimServed = servedK.opened();
        try (Mesh mesh = new Mesh()) {
            PeerNode survivor = mesh.start(Mesh.config().responder(Responders.gated(victimServed)));
            AtomicInteger held = new AtomicInteger();
            PeerNode victim = mesh.start(Mesh.config().responder(Responders.stallAfter(10, servedK, held)));
            PeerNode other = mesh.start(Mesh.config().responder(Responders.gated(victimServed)));
            for (PeerNode n : List.of(survivor, victim, other)) {
                n.models().add(LocalModel.openServing(origin, null));
            }
            PeerNode fetcher = mesh.start();
            ModelFetcher.connectAll(fetcher, List.of(survivor.listenAddress(), victim.listenAddress(),
                    other.listenAddress()), Mesh.WAIT);
            ManifestSource.Obtained m = ManifestSource.fromPeers(fetcher, hash, null, Mesh.WAIT);
            Path out = tmp.resolve("out");
            ExecutorService pool = Executors.newSingleThreadExecutor();
            Future<ModelFetcher.Result> f = pool.submit(
                    () -> new ModelFetcher(fetcher, Mesh.swarm()).fetch(m, out, Mesh.WAIT));
            pool.shutdown();
            victimServed.get(20, TimeUnit.SECONDS); // the victim served 10 chunks
            victim.close();
            assertTrue(held.get() > 0, "killed with requests to it outstanding: mid-transfer");
            ModelFetcher.Result r = f.get(60, TimeUnit.SECONDS);
            assertNull(TestModels.verify(origin, out));
            assertEquals(10, victim.chunksServed());
            assertEquals(120, r.stats().chunks());
            assertTrue(survivor.chunksServed() + other.chunksServed() >= 110);
        }
    }

    @Test
    void endgameDuplicatesRouteAroundAPeerThatStopsAnswering(@TempDir Path tmp) throws Exception {
        Path origin = tmp.resolve("origin");
        ModelHash hash = TestModels.write(origin, CHUNK, 13, 60 * CHUNK);
        AtomicInteger held = new AtomicInteger();
        try (Mesh mesh = new Mesh()) {
            PeerNode mute = mesh.start(Mesh.config().responder(Responders.stallAfter(0, new Countdown(1), held)));
            PeerNode honest = mesh.start();
            mute.models().add(LocalModel.openServing(origin, null));
            honest.models().add(LocalModel.openServing(origin, null));
            PeerNode fetcher = mesh.start(Mesh.config().requestTimeout(java.time.Duration.ofSeconds(30)));
            ModelFetcher.connectAll(fetcher, List.of(mute.listenAddress(), honest.listenAddress()), Mesh.WAIT);
            ManifestSource.Obtained m = ManifestSource.fromPeers(fetcher, hash, null, Mesh.WAIT);
            Path out = tmp.resolve("out");
            ModelFetcher.Result r = new ModelFetcher(fetcher, Mesh.swarm()).fetch(m, out, Mesh.WAIT);
            assertNull(TestModels.verify(origin, out));
            assertTrue(held.get() > 0, "the mute peer was asked");
            assertEquals(0, r.stats().timeouts(), "its chunks were duplicated to the honest peer, not waited out");
            assertTrue(honest.chunksServed() >= 60, "the honest peer served every chunk");
        }
    }
}
