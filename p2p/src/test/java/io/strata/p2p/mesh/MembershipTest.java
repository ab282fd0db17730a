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
            c.connect(b.listenAddress()).get(10, TimeUnit.SECONDS);
            // c was only told about b; it must find a through b's gossip and dial it
            PeerConnection ca = cMetA.get(10, TimeUnit.SECONDS);
            assertEquals(a.listenAddress(), ca.peerAddress());
            assertTrue(c.membership().knows(a.listenAddress()));

            // b and c both redial a, fail, and forget it. Until b has forgotten a its gossip may teach c again
            // (and c forgets again), so wait on forget events until neither knows a: then nobody can re-teach it.
            java.util.concurrent.BlockingQueue<PeerAddress> forgets = new java.util.concurrent.LinkedBlockingQueue<>();
            b.membership().onForget(forgets::add);
            c.membership().onForget(forgets::add);
            a.close();
            while (b.membership().knows(a.listenAddress()) || c.membership().knows(a.listenAddress())) {
                assertNotNull(forgets.poll(15, TimeUnit.SECONDS), "a dead peer must be forgotten");
            }
            assertFalse(c.membership().knows(a.listenAddress()));
            assertTrue(c.membership().knows(b.listenAddress()), "live peers are kept");
        }
    }

    @Test
    void membershipIsBoundedAndIgnoresItself() {
        Membership m = new Membership(3, 2);
        m.setSelf(new PeerAddress("127.0.0.1", 1));
        List<PeerAddress> many = new ArrayList<>();
        for (int i = 1; i <= 10; i++) {
            many.add(new PeerAddress("127.0.0.1", i));
        }
        assertEquals(3, m.learn(many));
        assertFalse(m.knows(new PeerAddress("127.0.0.1", 1)), "never itself");
        assertEquals(3, m.all().size());
        PeerAddress x = m.all().getFirst();
        assertFalse(m.markFailed(x));
        m.markAlive(x); // success resets the count
        assertFalse(m.markFailed(x));
        assertTrue(m.markFailed(x));
        assertFalse(m.knows(x));
    }
}
