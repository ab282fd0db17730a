package io.strata.p2p.mesh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.p2p.Mesh;
import io.strata.p2p.NettyLeaks;
import io.strata.p2p.node.NodeListener;
import io.strata.p2p.node.PeerConnection;
import io.strata.p2p.node.PeerNode;
import io.strata.p2p.wire.PeerAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class MembershipTest {
    static {
        NettyLeaks.install();
    }

    @AfterAll
    static void noLeaks() throws InterruptedException {
        NettyLeaks.assertNoStrataThreads();
        NettyLeaks.assertNoLeaks();
    }

    @Test
    void peersLearnOfEachOtherThroughGossipAndForgetTheDead() throws Exception {
        try (Mesh mesh = new Mesh()) {
            PeerNode a = mesh.start();
            PeerNode b = mesh.start();
            PeerNode d = mesh.start();
            PeerNode c = mesh.start();
            CompletableFuture<PeerConnection> cMetA = new CompletableFuture<>();
            c.addListener(new NodeListener() {
                @Override
                public void connected(PeerConnection conn) {
                    if (conn.peerId().equals(a.id())) {
                        cMetA.complete(conn);
                    }
                }
            });
            b.connect(a.listenAddress()).get(10, TimeUnit.SECONDS);
            d.connect(a.listenAddress()).get(10, TimeUnit.SECONDS);
            c.connect(b.listenAddress()).get(10, TimeUnit.SECONDS);
            c.connect(d.listenAddress()).get(10, TimeUnit.SECONDS);
            // c was only told about b and d; it must find a through their gossip (two hosts vouch) and dial it
            PeerConnection ca = cMetA.get(10, TimeUnit.SECONDS);
            assertEquals(a.listenAddress(), ca.peerAddress());
            assertTrue(c.membership().knows(a.listenAddress()));

            // b, c and d redial a, fail, and forget it. Until b has forgotten a its gossip may teach c again
            // (and c forgets again), so wait on forget events until neither knows a: then nobody can re-teach it.
            java.util.concurrent.BlockingQueue<PeerAddress> forgets = new java.util.concurrent.LinkedBlockingQueue<>();
            for (PeerNode n : List.of(b, c, d)) {
                n.membership().onForget(forgets::add);
            }
            a.close();
            while (b.membership().knows(a.listenAddress()) || c.membership().knows(a.listenAddress())
                    || d.membership().knows(a.listenAddress())) {
                assertNotNull(forgets.poll(15, TimeUnit.SECONDS), "a dead peer must be forgotten");
            }
            assertFalse(c.membership().knows(a.listenAddress()));
            assertTrue(c.membership().knows(b.listenAddress()), "live peers are kept");
        }
    }

    @Test
    void membershipIsBoundedAndIgnoresItself() throws Exception {
        Membership m = new Membership(3, 2);
        m.setSelf(new PeerAddress("127.0.0.1", 1));
        PeerAddress met = new PeerAddress("127.0.0.9", 9);
        m.markAlive(met);
        List<PeerAddress> many = new ArrayList<>();
        for (int i = 1; i <= 10; i++) {
            many.add(new PeerAddress("127.0.0.1", i));
        }
        m.learnFromPeer(many, java.net.InetAddress.ofLiteral("127.0.0.5"));
        assertFalse(m.knows(new PeerAddress("127.0.0.1", 1)), "never itself");
        assertEquals(3, m.all().size());
        assertTrue(m.knows(met), "a flood of gossip does not push out a peer the node met");
        PeerAddress x = met;
        assertFalse(m.markFailed(x));
        m.markAlive(x); // success resets the count
        assertFalse(m.markFailed(x));
        assertTrue(m.markFailed(x));
        assertFalse(m.knows(x));
    }
}
