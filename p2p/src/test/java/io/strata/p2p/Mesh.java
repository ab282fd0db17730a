package io.strata.p2p;

import io.strata.p2p.fetch.SwarmOptions;
import io.strata.p2p.identity.NodeId;
import io.strata.p2p.node.NodeConfig;
import io.strata.p2p.node.NodeListener;
import io.strata.p2p.node.PeerConnection;
import io.strata.p2p.node.PeerNode;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Nodes of one test on loopback with ephemeral ports and short timeouts; closes them all. Each node gets a loopback
 * address of its own (127.0.2.x, listening and dialling from it), so per-address policies (bans, connection
 * limits, distinct gossip reporters) see the nodes as the distinct hosts they stand for. Linux routes all of
 * 127.0.0.0/8 to lo.
 */
public final class Mesh implements AutoCloseable {
    public static final Duration WAIT = Duration.ofSeconds(30);
    private static final AtomicInteger NEXT_HOST = new AtomicInteger();
    private final List<PeerNode> nodes = new ArrayList<>();

    /** A loopback address no other test node or raw peer of this JVM uses (127.0.{2..}.{1..250}). */
    public static String freshHost() {
        int n = NEXT_HOST.getAndIncrement();
        return "127.0." + (2 + n / 250 % 200) + "." + (1 + n % 250);
    }

    public static NodeConfig config() {
        String host = freshHost();
        return new NodeConfig().bind(host, 0).dialFrom(host).ioThreads(1)
                .handshakeTimeout(Duration.ofSeconds(3))
                .requestTimeout(Duration.ofSeconds(5))
                .keepAlive(Duration.ofSeconds(2), Duration.ofSeconds(10))
                .gossipInterval(Duration.ofMillis(200));
    }

    public static SwarmOptions swarm() {
        return SwarmOptions.defaults().withStallTimeout(Duration.ofSeconds(10));
    }

    /**
     * Completes once {@code observer} has dropped its connection to each of {@code peers} (a ban closes it): a gate
     * for a responder that must wait until bad peers have been dealt with. Call it before connecting.
     */
    public static CompletableFuture<Void> dropped(PeerNode observer, NodeId... peers) {
        Set<NodeId> left = ConcurrentHashMap.newKeySet();
        left.addAll(List.of(peers));
        CompletableFuture<Void> all = new CompletableFuture<>();
        observer.addListener(new NodeListener() {
            @Override
            public void disconnected(PeerConnection c) {
                if (left.remove(c.peerId()) && left.isEmpty()) {
                    all.complete(null);
                }
            }
        });
        return all;
    }

    public PeerNode start(NodeConfig c) throws IOException {
        PeerNode n = PeerNode.start(c);
        nodes.add(n);
        return n;
    }

    public PeerNode start() throws IOException {
        return start(config());
    }

    @Override
    public void close() {
        for (PeerNode n : nodes) {
            n.close();
        }
    }
}
