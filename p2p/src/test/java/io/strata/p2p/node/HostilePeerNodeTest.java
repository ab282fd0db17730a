package io.strata.p2p.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.p2p.Attacks;
import io.strata.p2p.Mesh;
import io.strata.p2p.NettyLeaks;
import io.strata.p2p.RawPeer;
import io.strata.p2p.TestModels;
import io.strata.p2p.mesh.AddressRange;
import io.strata.p2p.store.LocalModel;
import io.strata.p2p.wire.Message;
import io.strata.p2p.wire.MessageType;
import io.strata.p2p.wire.ModelHash;
import io.strata.p2p.wire.PeerAddress;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The peer-node attacks of issue 11, one test per case, each against a real node on loopback with real sockets.
 * Attackers connect from loopback addresses of their own (other hosts, as the node sees them).
 */
class HostilePeerNodeTest {
    static {
        NettyLeaks.install();
    }

    @TempDir
    Path tmp;
    @TempDir
    static Path models;
    /** A small model, and one whose manifest is large (~70 KB: 1000 chunk hashes), shared by the tests. */
    static Path small;
    static Path wide;
    static ModelHash wideHash;

    @BeforeAll
    static void writeModels() throws Exception {
        small = models.resolve("small");
        TestModels.write(small, 16 << 10, 31, 300_000);
        wide = models.resolve("wide");
        wideHash = TestModels.write(wide, 1 << 10, 32, 1000 << 10);
    }

    @AfterAll
    static void noLeaks() throws InterruptedException {
        NettyLeaks.assertNoStrataThreads();
        NettyLeaks.assertNoLeaks();
    }

    /** Polls {@code condition} until true or {@code within} passed; returns its last value. */
    static boolean await(BooleanSupplier condition, Duration within) throws InterruptedException {
        long end = System.nanoTime() + within.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - end > 0) {
                return false;
            }
            Thread.sleep(20); // polling interval of a bounded wait, not synchronisation
        }
        return true;
    }

    private PeerNode seed(Mesh mesh, NodeConfig cfg, Path origin) throws Exception {
        PeerNode n = mesh.start(cfg);
        n.models().add(LocalModel.openServing(origin, null));
        return n;
    }

    @Test
    void sixtyFourPingOnlyIdentitiesDoNotLockOutAnHonestPeer() throws Exception {
        Path origin = small;
        try (Mesh mesh = new Mesh()) {
            PeerNode node = seed(mesh, Mesh.config().admission(8, 32, Duration.ofMillis(200)), origin);
            List<RawPeer> squatters = Attacks.pingOnlyIdentities(node.listenAddress(), Attacks.hosts(8), 8);
            try {
                assertEquals(64, squatters.size(), "64 identities from 8 hosts fill every slot");
                assertEquals(64, node.connections().size());
                // the squatters have been idle past the grace period: an honest peer takes one of their slots
                String[] why = new String[1];
                assertTrue(await(() -> {
                    try {
                        why[0] = Attacks.honestFetch(node.listenAddress(), origin, tmp.resolve("out"));
                        return why[0] == null;
                    } catch (Exception e) {
                        why[0] = e.toString();
                        return false;
                    }
                }, Duration.ofSeconds(20)), () -> "honest fetch: " + why[0]);
                assertTrue(node.counters().evicted() >= 1, "an idle identity made room");
                assertTrue(node.connections().size() <= 64);
            } finally {
                for (RawPeer p : squatters) {
                    p.close();
                }
            }
        }
    }

    @Test
    void connectionsFromOneAddressAreBounded() throws Exception {
        try (Mesh mesh = new Mesh()) {
            PeerNode node = mesh.start(Mesh.config().admission(4, 32, Duration.ofSeconds(30)));
            String host = Mesh.freshHost();
            List<RawPeer> admitted = Attacks.pingOnlyIdentities(node.listenAddress(), List.of(host), 12);
            try {
                assertEquals(4, admitted.size(), "at most 4 connections from one address");
                try (RawPeer other = new RawPeer(node.listenAddress())) {
                    assertFalse(other.refused(), "another host is still admitted");
                }
            } finally {
                for (RawPeer p : admitted) {
                    p.close();
                }
            }
        }
    }

    @Test
    void aBannedKeyCannotReturnWithAFreshKeyFromItsAddressUntilTheBanDecays() throws Exception {
        try (Mesh mesh = new Mesh()) {
            PeerNode node = mesh.start(Mesh.config().bans(Duration.ofHours(1), Duration.ofMillis(1500),
                    Duration.ofSeconds(10)));
            String host = Mesh.freshHost();
            try (RawPeer bad = new RawPeer(node.listenAddress(), host)) {
                bad.handshake();
                bad.sendRaw(new byte[]{0, 0, 0, 3, (byte) 0xEE, 1, 2}); // garbage after authenticating
                assertTrue(bad.closedByPeer());
            }
            assertTrue(node.bans().isBanned(InetAddress.ofLiteral(host)), "its address is banned with its key");
            try (RawPeer fresh = new RawPeer(node.listenAddress(), host)) {
                assertTrue(fresh.refused(), "a fresh key from the banned address is refused");
            }
            try (RawPeer elsewhere = new RawPeer(node.listenAddress())) {
                assertFalse(elsewhere.refused(), "other addresses are not affected");
            }
            assertTrue(await(() -> !node.bans().isBanned(InetAddress.ofLiteral(host)), Duration.ofSeconds(10)),
                    "the address ban decays");
            try (RawPeer later = new RawPeer(node.listenAddress(), host)) {
                assertFalse(later.refused(), "after the ban, the address may connect again");
            }
        }
    }

    @Test
    void aPeerAdvertisingPort0IsNeverRedialledAfterItsBan() throws Exception {
        try (Mesh mesh = new Mesh()) {
            PeerNode node = mesh.start();
            assertEquals(0, Attacks.bannedPortZeroPeer(node, 10, Duration.ofSeconds(20)),
                    "dialled, banned, never dialled again");
            assertEquals(1, node.bans().size());
        }
    }

    @Test
    void aGetManifestFloodWithoutReadingIsHeldBackAndMemoryStaysBounded() throws Exception {
        Path origin = wide;
        ModelHash hash = wideHash;
        try (Mesh mesh = new Mesh()) {
            PeerNode node = seed(mesh, Mesh.config(), origin);
            long before = Attacks.nettyMemory();
            Attacks.Flood f = Attacks.manifestFlood(node.listenAddress(), Mesh.freshHost(), hash, 1000,
                    Duration.ofSeconds(1), Attacks::nettyMemory);
            long grown = f.peakMemory() - before;
            // 1000 answers are 70 MB; the node may hold a water mark's worth (1 MiB) and an answer in flight
            assertTrue(grown < 16 << 20, "Netty memory grew by " + (grown >> 20) + " MiB while " + f.sent()
                    + " requests were sent");
            assertNull(Attacks.honestFetch(node.listenAddress(), origin, tmp.resolve("out")),
                    "honest peers are still served");
        }
    }

    @Test
    void framesBeforeTheHandshakeAreCappedAtTheHandshakeSize() throws Exception {
        try (Mesh mesh = new Mesh()) {
            PeerNode node = mesh.start(Mesh.config().handshakeTimeout(Duration.ofSeconds(60)));
            // a 16 MiB frame announced by a stranger is refused at its length field, not buffered until complete
            assertEquals(3, Attacks.bigUnauthenticatedFrames(node.listenAddress(), Mesh.freshHost(), 3, 16 << 20));
            try (RawPeer p = new RawPeer(node.listenAddress())) { // one byte over the largest handshake frame
                p.read();
                p.sendRaw(ByteBuffer.allocate(5).putInt(io.strata.p2p.wire.FrameDecoder.HANDSHAKE_MAX_FRAME + 1)
                        .put((byte) MessageType.HELLO.code()).array());
                p.soTimeout(5_000);
                assertTrue(p.closedByPeer());
            }
            assertTrue(node.protocolErrors() >= 4);
        }
    }

    @Test
    void aPieceBeforeTheHandshakeIsReleased() throws Exception {
        try (Mesh mesh = new Mesh()) {
            PeerNode node = mesh.start();
            for (int i = 0; i < 20; i++) {
                try (RawPeer p = new RawPeer(node.listenAddress())) {
                    p.read();
                    p.send(new Message.Piece(1, 0, 0, io.netty.buffer.Unpooled.wrappedBuffer(new byte[40])));
                    assertTrue(p.closedByPeer());
                }
            }
        }
        NettyLeaks.assertNoLeaks(); // the node must have released each PIECE it refused
    }

    @Test
    void onePeersFrameDoesNotMakeTheNodeDialItsAddresses() throws Exception {
        String victim = Mesh.freshHost();
        List<ServerSocket> ports = new ArrayList<>();
        try (Mesh mesh = new Mesh()) {
            List<PeerAddress> listed = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                ServerSocket s = new ServerSocket();
                s.bind(new InetSocketAddress(victim, 0));
                ports.add(s);
                listed.add(new PeerAddress(victim, s.getLocalPort()));
            }
            for (int p = 1; listed.size() < 57; p++) {
                listed.add(new PeerAddress(victim, 40000 + p));
            }
            PeerNode node = mesh.start();
            try (RawPeer attacker = Attacks.peersFrame(node.listenAddress(), Mesh.freshHost(), listed)) {
                long round = node.counters().maintenanceRounds();
                assertTrue(await(() -> node.counters().maintenanceRounds() >= round + 5, Duration.ofSeconds(20)));
                assertEquals(0, node.counters().dials(), "an address one peer told of is not dialled");
            }
        } finally {
            for (ServerSocket s : ports) {
                s.close();
            }
        }
    }

    @Test
    void gossipIsDialledOnlyInsideTheRangesWhenSeveralHostsReportItAndAtAMeasuredRate() throws Exception {
        try (Mesh mesh = new Mesh()) {
            List<PeerAddress> listed = new ArrayList<>();
            for (int p = 1; p <= 40; p++) {
                listed.add(new PeerAddress("127.0.250." + p, 40000 + p)); // in range, nobody listens
            }
            List<PeerAddress> outside = List.of(new PeerAddress("8.8.8.8", 53), new PeerAddress("0.0.0.0", 7000),
                    new PeerAddress("255.255.255.255", 7000), new PeerAddress("224.0.0.1", 7000),
                    new PeerAddress("example.com", 80));
            List<PeerAddress> all = new ArrayList<>(listed);
            all.addAll(outside);
            PeerNode node = mesh.start(Mesh.config().dialing(List.of(AddressRange.parse("127.0.0.0/8")), 2, 2));
            try (RawPeer a = Attacks.peersFrame(node.listenAddress(), Mesh.freshHost(), all);
                 RawPeer b = Attacks.peersFrame(node.listenAddress(), Mesh.freshHost(), all)) {
                long round = node.counters().maintenanceRounds();
                assertTrue(await(() -> node.counters().maintenanceRounds() >= round + 5, Duration.ofSeconds(20)));
                long dials = node.counters().dials();
                long rounds = node.counters().maintenanceRounds();
                assertTrue(dials > 0, "addresses two hosts report are dialled");
                assertTrue(dials <= 2 * (rounds + 1), dials + " dials in " + rounds + " rounds: at most 2 a round");
                for (PeerAddress o : outside) {
                    assertFalse(node.membership().known(o) != null && node.membership().known(o).lastAttemptNanos()
                            != Long.MIN_VALUE, o + " must never be dialled");
                }
            }
        }
    }

    @Test
    void aConnectionTricklingOneByteAtATimeIsClosed() throws Exception {
        try (Mesh mesh = new Mesh()) {
            PeerNode node = mesh.start(Mesh.config().keepAlive(Duration.ofMillis(200), Duration.ofSeconds(1)));
            // a PING frame at one byte per 150 ms arrives whole every ~2 s: no complete frame within the 1 s limit
            assertTrue(Attacks.trickle(node.listenAddress(), Mesh.freshHost(), Duration.ofMillis(150), 60),
                    "closed within 60 bytes (9 s)");
        }
    }

    @Test
    void aPeerThatStopsReadingIsClosedWhenItsOutputMakesNoProgress() throws Exception {
        Path origin = wide;
        ModelHash hash = wideHash;
        try (Mesh mesh = new Mesh()) {
            PeerNode node = seed(mesh, Mesh.config().keepAlive(Duration.ofMillis(200), Duration.ofSeconds(1)), origin);
            try (RawPeer p = new RawPeer(node.listenAddress())) {
                p.handshake();
                for (int i = 0; i < 300; i++) {
                    p.queue(new Message.GetManifest(hash)); // 20 MB of answers: far past every buffer
                }
                p.flush();
                boolean closed = false;
                for (int i = 0; i < 60 && !closed; i++) { // keeps sending whole frames, never reads: up to 9 s
                    try {
                        p.send(new Message.Ping(i));
                        Thread.sleep(150); // pacing of the attack
                    } catch (java.io.IOException e) {
                        closed = true;
                    }
                }
                assertTrue(closed, "a peer that does not read its answers is disconnected");
            }
        }
    }
}
