package io.strata.p2p;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.p2p.node.NodeConfig;
import io.strata.p2p.node.PeerNode;
import io.strata.p2p.store.LocalModel;
import io.strata.p2p.wire.ModelHash;
import io.strata.p2p.wire.PeerAddress;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Red team: every peer attack of issue 11 in turn against one node, which must still serve an honest fetch
 * afterwards, with its memory under a stated bound throughout. Every attack is bounded in count and time.
 *
 * <p>By default the target is a node in this JVM (short timeouts; memory = what Netty's allocator holds, bound
 * {@link #IN_PROCESS_BOUND} over the start). {@code scripts/redteam-peer.sh} runs the same attacks against a real
 * {@code strata peer} process: {@code -Dstrata.redteam.target=HOST:PORT -Dstrata.redteam.model=DIR
 * -Dstrata.redteam.pid=PID} (default timeouts; memory = the process's RSS, bound {@link #PROCESS_BOUND} over the
 * start).
 */
class RedTeamPeerTest {
    static {
        NettyLeaks.install();
    }

    static final long IN_PROCESS_BOUND = 64L << 20;
    static final long PROCESS_BOUND = 256L << 20;

    @TempDir
    Path tmp;

    @AfterAll
    static void noLeaks() throws InterruptedException {
        NettyLeaks.assertNoStrataThreads();
        NettyLeaks.assertNoLeaks();
    }

    /** The node under attack and how to watch it. */
    record Target(PeerAddress address, Path model, PeerNode inProcess, LongSupplier memory, long bound,
                  Duration idle, Duration grace, Duration gossipRound) {
    }

    @Test
    void aPeerNodeSurvivesEveryAttackAndStillServesAnHonestFetch() throws Exception {
        String external = System.getProperty("strata.redteam.target");
        try (Mesh mesh = new Mesh()) {
            Target t = external != null ? externalTarget(external) : inProcessTarget(mesh);
            AtomicLong peak = new AtomicLong();
            long base = t.memory().getAsLong();
            Thread sampler = Thread.ofPlatform().daemon().name("redteam-memory").start(() -> {
                while (!Thread.currentThread().isInterrupted()) {
                    peak.accumulateAndGet(t.memory().getAsLong(), Math::max);
                    try {
                        Thread.sleep(50); // sampling interval
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            try {
                attack(t);
            } finally {
                sampler.interrupt();
                sampler.join(5_000);
            }
            long grown = Math.max(peak.get(), t.memory().getAsLong()) - base;
            System.out.printf("redteam: %s memory %d MiB at start, peak +%d MiB (bound +%d MiB)%n",
                    external != null ? "strata peer RSS" : "in-process Netty", base >> 20, grown >> 20,
                    t.bound() >> 20);
            assertTrue(grown < t.bound(), "memory grew by " + (grown >> 20) + " MiB, bound " + (t.bound() >> 20));
        }
    }

    private long phaseStart = System.nanoTime();

    /** Prints how long the attack just finished took (the script's progress report). */
    private void done(String attack) {
        long now = System.nanoTime();
        System.out.printf("redteam: %-58s %6.2f s%n", attack, (now - phaseStart) / 1e9);
        phaseStart = now;
    }

    private void attack(Target t) throws Exception {
        PeerAddress at = t.address();
        phaseStart = System.nanoTime();
        assertNull(Attacks.honestFetch(at, t.model(), tmp.resolve("before")), "honest fetch before the attacks");
        done("honest fetch");

        // 64 throwaway identities from 8 hosts that only ping, holding every slot
        List<RawPeer> squatters = Attacks.pingOnlyIdentities(at, Attacks.hosts(8), 8);
        try (AutoCloseable pinging = Attacks.keepPinging(squatters, Duration.ofMillis(t.idle().toMillis() / 4))) {
            String[] why = {"not tried"};
            long end = System.nanoTime() + t.grace().plusSeconds(20).toNanos();
            int attempt = 0;
            while (System.nanoTime() - end < 0) {
                why[0] = Attacks.honestFetch(at, t.model(), tmp.resolve("squatted-" + attempt++));
                if (why[0] == null) {
                    break;
                }
            }
            assertNull(why[0], "honest fetch while 64 identities squat");
        } finally {
            for (RawPeer p : squatters) {
                p.close();
            }
        }
        done("64 ping-only identities squat; an honest fetch gets in");

        // a banned key comes back with a fresh key from the same address
        String host = Mesh.freshHost();
        try (RawPeer bad = new RawPeer(at, host)) {
            bad.handshake();
            bad.sendRaw(new byte[]{0, 0, 0, 3, (byte) 0xEE, 1, 2});
            assertTrue(bad.closedByPeer());
        }
        try (RawPeer fresh = new RawPeer(at, host)) {
            assertTrue(fresh.refused(), "fresh key from a banned address");
        }
        done("banned key returns with a fresh key: refused");

        // GET_MANIFEST 200 000 times without reading (memory is sampled throughout)
        ModelHash hash = ModelHash.ofManifest(Files.readAllBytes(t.model().resolve("manifest.json")));
        Attacks.Flood flood = Attacks.manifestFlood(at, Mesh.freshHost(), hash, 200_000, Duration.ofSeconds(2),
                t.memory());
        done("GET_MANIFEST x200000 without reading (" + flood.sent() + " taken)");

        // 60 unauthenticated 16 MiB frames
        assertEquals(60, Attacks.bigUnauthenticatedFrames(at, Mesh.freshHost(), 60, 16 << 20));
        done("60 unauthenticated 16 MiB frames: each closed at its length");

        // one PEERS frame naming 57 listening host:ports: none may be dialled
        String victim = Mesh.freshHost();
        try (Selector sel = Selector.open()) {
            List<PeerAddress> listed = new ArrayList<>();
            List<ServerSocketChannel> ports = new ArrayList<>();
            try {
                for (int i = 0; i < 57; i++) {
                    ServerSocketChannel s = ServerSocketChannel.open().bind(new InetSocketAddress(victim, 0));
                    s.configureBlocking(false).register(sel, SelectionKey.OP_ACCEPT);
                    ports.add(s);
                    listed.add(new PeerAddress(victim, ((InetSocketAddress) s.getLocalAddress()).getPort()));
                }
                try (RawPeer p = Attacks.peersFrame(at, Mesh.freshHost(), listed)) {
                    long end = System.nanoTime() + t.gossipRound().multipliedBy(5).toNanos();
                    int dialled = 0;
                    while (System.nanoTime() - end < 0) {
                        dialled += sel.select(100);
                        sel.selectedKeys().clear();
                    }
                    assertEquals(0, dialled, "connections to the gossiped addresses");
                }
                done("PEERS frame of 57 listening host:ports: none dialled");
            } finally {
                for (ServerSocketChannel s : ports) {
                    s.close();
                }
            }
        }

        // one byte at a time after the handshake
        long every = Math.max(100, t.idle().toMillis() / 6);
        assertTrue(Attacks.trickle(at, Mesh.freshHost(), Duration.ofMillis(every),
                (int) (3 * t.idle().toMillis() / every)), "trickling connection closed");
        done("one byte at a time: closed");

        // a peer advertising port 0 that gets banned is never dialled again (needs the node to dial: in-process)
        if (t.inProcess() != null) {
            assertEquals(0, Attacks.bannedPortZeroPeer(t.inProcess(), 10, t.gossipRound().multipliedBy(40)),
                    "the banned port-0 peer was dialled again");
            done("banned port-0 peer: never redialled");
        }

        assertNull(Attacks.honestFetch(at, t.model(), tmp.resolve("after")), "honest fetch after the attacks");
        done("honest fetch");
    }

    private Target inProcessTarget(Mesh mesh) throws Exception {
        Path model = tmp.resolve("model");
        TestModels.write(model, 16 << 10, 51, 400_000, 300_000, 5);
        NodeConfig cfg = Mesh.config().keepAlive(Duration.ofMillis(250), Duration.ofSeconds(1))
                .handshakeTimeout(Duration.ofSeconds(1)).admission(8, 32, Duration.ofMillis(300));
        PeerNode node = mesh.start(cfg);
        node.models().add(LocalModel.openServing(model, null));
        return new Target(node.listenAddress(), model, node, Attacks::nettyMemory, IN_PROCESS_BOUND,
                Duration.ofSeconds(1), Duration.ofMillis(300), Duration.ofMillis(200));
    }

    /** A real {@code strata peer} with default settings (idle 20 s, admission grace 10 s, gossip every 2 s). */
    private static Target externalTarget(String address) {
        long pid = Long.parseLong(System.getProperty("strata.redteam.pid"));
        Path model = Path.of(System.getProperty("strata.redteam.model"));
        LongSupplier rss = () -> {
            try {
                for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                    if (line.startsWith("VmRSS:")) {
                        return Long.parseLong(line.replaceAll("\\D+", "")) << 10;
                    }
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException("strata peer (pid " + pid + ") is gone", e);
            }
            throw new IllegalStateException("no VmRSS for pid " + pid);
        };
        return new Target(PeerAddress.parse(address), model, null, rss, PROCESS_BOUND, Duration.ofSeconds(20),
                Duration.ofSeconds(10), Duration.ofSeconds(2));
    }
}
