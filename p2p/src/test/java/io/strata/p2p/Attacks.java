package io.strata.p2p;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.strata.p2p.fetch.ManifestSource;
import io.strata.p2p.fetch.ModelFetcher;
import io.strata.p2p.node.PeerNode;
import io.strata.p2p.wire.Message;
import io.strata.p2p.wire.ModelHash;
import io.strata.p2p.wire.PeerAddress;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The attacks of issue 11 on a peer node, each bounded in count and time, replayed by the node tests and by the
 * red-team test against an in-process node or a real {@code strata peer}. Attackers connect from loopback addresses
 * of their own, so the node sees them as other hosts than the honest peers.
 */
public final class Attacks {
    private Attacks() {
    }

    /**
     * Opens {@code perHost} authenticated connections from each of {@code hosts}, each with a fresh key, that only
     * ever send a PING; returns those the node admitted (still open: the caller closes them).
     */
    public static List<RawPeer> pingOnlyIdentities(PeerAddress target, List<String> hosts, int perHost)
            throws IOException {
        List<RawPeer> admitted = new ArrayList<>();
        for (String h : hosts) {
            for (int i = 0; i < perHost; i++) {
                RawPeer p = new RawPeer(target, h);
                if (p.refused()) {
                    p.close();
                } else {
                    admitted.add(p);
                }
            }
        }
        return admitted;
    }

    /** What a flood did: frames the node's socket took, and the most memory {@code memory} reported meanwhile. */
    public record Flood(long sent, long peakMemory) {
    }

    /**
     * Sends up to {@code frames} GET_MANIFEST frames on one authenticated connection without reading anything, and
     * holds the connection open for {@code hold}, sampling {@code memory} every 20 ms. A node that stops reading
     * when its replies back up takes far fewer frames than were offered, and its memory stays flat.
     */
    public static Flood manifestFlood(PeerAddress target, String host, ModelHash model, int frames, Duration hold,
                                      java.util.function.LongSupplier memory) throws Exception {
        RawPeer p = new RawPeer(target, host);
        p.handshake();
        AtomicLong sent = new AtomicLong();
        Thread writer = Thread.ofPlatform().daemon().name("attack-manifest-flood").start(() -> {
            try {
                for (int i = 0; i < frames; i += 256) {
                    for (int j = 0; j < 256; j++) {
                        p.queue(new Message.GetManifest(model));
                    }
                    p.flush();
                    sent.addAndGet(256);
                }
            } catch (IOException e) {
                // closed under a blocked write: the attack is over
            }
        });
        long peak = memory.getAsLong();
        long end = System.nanoTime() + hold.toNanos();
        while (System.nanoTime() - end < 0) {
            Thread.sleep(20); // sampling interval
            peak = Math.max(peak, memory.getAsLong());
        }
        p.close();
        writer.join(10_000);
        return new Flood(sent.get(), peak);
    }

    /**
     * Opens {@code n} connections that, without authenticating, announce a frame of {@code frameLength} bytes and
     * send up to 64 KiB of it; returns how many the node closed before the attacker sent the rest.
     */
    public static int bigUnauthenticatedFrames(PeerAddress target, String host, int n, int frameLength)
            throws IOException {
        int closed = 0;
        for (int i = 0; i < n; i++) {
            try (RawPeer p = new RawPeer(target, host)) {
                p.read(); // its HELLO
                byte[] head = ByteBuffer.allocate(64 << 10).putInt(frameLength).put((byte) 1).array();
                try {
                    p.sendRaw(head);
                } catch (IOException e) {
                    closed++; // closed while we were still sending
                    continue;
                }
                p.soTimeout(5_000);
                if (p.closedByPeer()) {
                    closed++;
                }
            }
        }
        return closed;
    }

    /** Sends one PEERS frame listing {@code addresses} after an honest handshake; the caller closes the peer. */
    public static RawPeer peersFrame(PeerAddress target, String host, List<PeerAddress> addresses)
            throws IOException {
        RawPeer p = new RawPeer(target, host);
        p.handshake();
        p.send(new Message.Peers(addresses));
        return p;
    }

    /**
     * After an honest handshake, sends PING frames one byte every {@code every}, at most {@code maxBytes} bytes;
     * returns true when the node closed the connection before that.
     */
    public static boolean trickle(PeerAddress target, String host, Duration every, int maxBytes) throws Exception {
        try (RawPeer p = new RawPeer(target, host)) {
            p.handshake();
            p.soTimeout((int) (every.toMillis() * maxBytes + 5_000));
            CompletableFuture<Boolean> closed = new CompletableFuture<>();
            Thread reader = Thread.ofPlatform().daemon().name("attack-trickle-reader").start(() -> {
                try {
                    closed.complete(p.closedByPeer());
                } catch (IOException e) {
                    closed.complete(true);
                }
            });
            byte[] ping = ByteBuffer.allocate(13).putInt(9).put((byte) io.strata.p2p.wire.MessageType.PING.code())
                    .putLong(1).array();
            for (int i = 0; i < maxBytes && !closed.isDone(); i++) {
                try {
                    p.sendRaw(new byte[]{ping[i % ping.length]});
                } catch (IOException e) {
                    break;
                }
                try {
                    if (closed.get(every.toMillis(), TimeUnit.MILLISECONDS)) {
                        break;
                    }
                } catch (java.util.concurrent.TimeoutException e) {
                    // pace: the next byte
                }
            }
            boolean result = closed.isDone() && closed.join();
            p.close();
            reader.join(10_000);
            return result;
        }
    }

    /** Sends a PING on each of {@code peers} every {@code every} until closed (squatters holding their slots). */
    public static AutoCloseable keepPinging(List<RawPeer> peers, Duration every) {
        Thread t = Thread.ofPlatform().daemon().name("attack-pinger").start(() -> {
            for (long i = 0; !Thread.currentThread().isInterrupted(); i++) {
                for (RawPeer p : peers) {
                    try {
                        p.send(new Message.Ping(i));
                    } catch (IOException e) {
                        // closed by the node (evicted): nothing to hold
                    }
                }
                try {
                    Thread.sleep(every.toMillis()); // pacing of the attack
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        return () -> {
            t.interrupt();
            t.join(5_000);
        };
    }

    /**
     * Makes {@code node} dial a fake peer that says it listens nowhere (HELLO port 0) and then sends garbage (so it
     * is banned); watches {@code rounds} more maintenance rounds (at most {@code limit}); returns how many times the
     * node dialled it once its address was banned (0 is right; a dial made before the ban — a retry while the
     * first connection was still being judged, accepted from the backlog after the ban — is one the dial policy
     * allows), or -1 when it was never dialled or never banned.
     */
    public static int bannedPortZeroPeer(PeerNode node, int rounds, Duration limit) throws Exception {
        try (java.net.ServerSocket server = new java.net.ServerSocket()) {
            server.bind(new java.net.InetSocketAddress(Mesh.freshHost(), 0));
            server.setSoTimeout(100);
            java.net.InetAddress host = server.getInetAddress();
            java.util.concurrent.atomic.AtomicInteger accepted = new java.util.concurrent.atomic.AtomicInteger();
            java.util.concurrent.atomic.AtomicInteger afterBan = new java.util.concurrent.atomic.AtomicInteger();
            // the node's dial count when the ban was first seen: a connection accepted later that no dial since
            // then accounts for was dialled before the ban (a retry waiting in the listen backlog)
            java.util.concurrent.atomic.AtomicLong dialsAtBan = new java.util.concurrent.atomic.AtomicLong(-1);
            Thread fake = Thread.ofPlatform().daemon().name("attack-port-zero").start(() -> {
                while (!server.isClosed()) {
                    try (java.net.Socket s = server.accept(); RawPeer p = new RawPeer(s)) {
                        accepted.incrementAndGet();
                        long at = dialsAtBan.get();
                        if (at >= 0 && node.counters().dials() > at) {
                            afterBan.incrementAndGet(); // the node dialled again once the address was banned
                        }
                        p.handshake(0); // "I listen nowhere"
                        p.sendRaw(new byte[]{0, 0, 0, 3, (byte) 0xEE, 1, 2}); // and get banned
                        p.closedByPeer();
                    } catch (IOException e) {
                        // accept timeout, or the node hung up: go on
                    }
                }
            });
            node.connect(new PeerAddress(host.getHostAddress(), server.getLocalPort()))
                    .exceptionally(e -> null).get(limit.toMillis(), TimeUnit.MILLISECONDS);
            long end = System.nanoTime() + limit.toNanos();
            while (!node.bans().isBanned(host) && System.nanoTime() - end < 0) {
                Thread.sleep(5); // polling interval of a bounded wait
            }
            dialsAtBan.set(node.counters().dials());
            long start = node.counters().maintenanceRounds();
            while (node.counters().maintenanceRounds() < start + rounds && System.nanoTime() - end < 0) {
                Thread.sleep(20); // polling interval of a bounded wait
            }
            server.close();
            fake.join(5_000);
            if (!node.bans().isBanned(host) || accepted.get() == 0) {
                return -1; // the attack did not happen as planned: never dialled, or never banned
            }
            return afterBan.get();
        }
    }

    /** An honest node (its own loopback host) fetches {@code origin}'s model from {@code target} into {@code out}. */
    public static String honestFetch(PeerAddress target, Path origin, Path out) throws Exception {
        try (Mesh mesh = new Mesh()) {
            PeerNode n = mesh.start();
            if (ModelFetcher.connectAll(n, List.of(target), Mesh.WAIT) != 1) {
                return "could not connect to " + target;
            }
            ManifestSource.Obtained m = ManifestSource.fromFile(origin.resolve("manifest.json"), null);
            new ModelFetcher(n, Mesh.swarm()).fetch(m, out, Mesh.WAIT);
            return TestModels.verify(origin, out);
        }
    }

    /** Memory Netty's default allocator holds (direct and heap arenas): where frames and queued output live. */
    public static long nettyMemory() {
        if (ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider p) {
            return p.metric().usedDirectMemory() + p.metric().usedHeapMemory();
        }
        throw new IllegalStateException("allocator " + ByteBufAllocator.DEFAULT + " reports no metrics");
    }

    /** Loopback addresses no other peer in this JVM uses, one per simulated attacker host. */
    public static List<String> hosts(int n) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(Mesh.freshHost());
        }
        return out;
    }
}
