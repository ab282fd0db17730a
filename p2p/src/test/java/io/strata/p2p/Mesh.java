package io.strata.p2p;

import io.strata.p2p.fetch.SwarmOptions;
import io.strata.p2p.node.NodeConfig;
import io.strata.p2p.node.PeerNode;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Nodes of one test on 127.0.0.1 with ephemeral ports and short timeouts; closes them all. */
public final class Mesh implements AutoCloseable {
    public static final Duration WAIT = Duration.ofSeconds(30);
    private final List<PeerNode> nodes = new ArrayList<>();

    public static NodeConfig config() {
        return new NodeConfig().bind("127.0.0.1", 0).ioThreads(1)
                .handshakeTimeout(Duration.ofSeconds(3))
                .requestTimeout(Duration.ofSeconds(5))
                .keepAlive(Duration.ofSeconds(2), Duration.ofSeconds(10))
                .gossipInterval(Duration.ofMillis(200));
    }

    public static SwarmOptions swarm() {
        return SwarmOptions.defaults().withStallTimeout(Duration.ofSeconds(10));
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
