package io.strata.p2p.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.p2p.Mesh;
import io.strata.p2p.NettyLeaks;
import io.strata.p2p.RawPeer;
import io.strata.p2p.TestModels;
import io.strata.p2p.fetch.ManifestSource;
import io.strata.p2p.fetch.ModelFetcher;
import io.strata.p2p.store.LocalModel;
import io.strata.p2p.wire.Message;
import io.strata.p2p.wire.MessageType;
import io.strata.p2p.wire.ModelHash;
import io.strata.p2p.wire.Wire;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad bytes on the wire close that connection only; the node keeps serving others and leaks nothing. */
class BadInputTest {
    static {
        NettyLeaks.install();
    }

    @AfterAll
    static void noLeaks() throws InterruptedException {
        NettyLeaks.assertNoStrataThreads();
        NettyLeaks.assertNoLeaks();
    }

    @Test
    void malformedInputClosesTheConnectionAndTheNodeServesOn(@TempDir Path tmp) throws Exception {
        Path origin = tmp.resolve("origin");
        ModelHash hash = TestModels.write(origin, 16 << 10, 21, 200_000);
        try (Mesh mesh = new Mesh()) {
            PeerNode node = mesh.start(Mesh.config().maxFrame(64 << 10));
            node.models().add(LocalModel.openServing(origin, null));
            long errors = node.protocolErrors();

            try (RawPeer p = new RawPeer(node.listenAddress())) { // oversized frame, before the handshake
                p.read();
                p.sendRaw(ByteBuffer.allocate(5).putInt(Integer.MAX_VALUE).put((byte) 1).array());
                assertTrue(p.closedByPeer(), "oversized");
            }
            try (RawPeer p = new RawPeer(node.listenAddress())) { // oversized, just past the limit, after handshake
                p.handshake();
                p.sendRaw(ByteBuffer.allocate(5).putInt((64 << 10) + 1).put((byte) 9).array());
                assertTrue(p.closedByPeer(), "oversized after handshake");
                assertTrue(node.bans().isBanned(p.identity.id()), "an authenticated sender of garbage is banned");
            }
            try (RawPeer p = new RawPeer(node.listenAddress())) { // unknown message type after a good handshake
                p.handshake();
                p.sendRaw(new byte[]{0, 0, 0, 3, (byte) 0xEE, 1, 2});
                assertTrue(p.closedByPeer(), "unknown type");
            }
            try (RawPeer p = new RawPeer(node.listenAddress())) { // truncated HELLO (frame shorter than its fields)
                p.read();
                p.sendRaw(new byte[]{0, 0, 0, 4, (byte) MessageType.HELLO.code(), 0, 1, 7});
                assertTrue(p.closedByPeer(), "truncated hello");
            }
            try (RawPeer p = new RawPeer(node.listenAddress())) { // handshake with a bad signature
                p.read();
                p.send(new Message.Hello(Wire.PROTOCOL_VERSION, p.identity.publicKey(), p.nonce, 0));
                p.read(); // the node's AUTH
                p.send(new Message.Auth(p.identity.sign("something else".getBytes())));
                assertTrue(p.closedByPeer(), "bad signature");
            }
            try (RawPeer p = new RawPeer(node.listenAddress())) { // a request before authenticating
                p.read();
                p.send(new Message.Request(1, hash, 0, 0));
                assertTrue(p.closedByPeer(), "request before handshake");
            }
            try (RawPeer p = new RawPeer(node.listenAddress())) { // a frame cut off by EOF: nothing to answer
                p.read();
                // declares 8 bytes (within the pre-handshake cap, so not itself a violation) and sends 4
                p.sendRaw(new byte[]{0, 0, 0, 8, (byte) MessageType.PING.code(), 1, 2, 3});
            }
            assertEquals(errors + 6, node.protocolErrors(), "six protocol violations seen");

            // a well-behaved raw peer gets real chunks, and requests for absent ones are refused, not fatal
            try (RawPeer p = new RawPeer(node.listenAddress())) {
                p.handshake();
                p.send(new Message.Request(7, hash, 0, 99));
                assertEquals(new Message.Reject(7, Message.Reject.NOT_FOUND), p.readAnswer());
                p.send(new Message.Request(8, hash, 0, 1));
                Message.Piece piece = assertInstanceOf(Message.Piece.class, p.readAnswer());
                assertEquals(8, piece.id());
            }

            PeerNode fetcher = mesh.start();
            assertEquals(1, ModelFetcher.connectAll(fetcher, List.of(node.listenAddress()), Mesh.WAIT));
            ManifestSource.Obtained m = ManifestSource.fromPeers(fetcher, hash, null, Mesh.WAIT);
            new ModelFetcher(fetcher, Mesh.swarm()).fetch(m, tmp.resolve("out"), Mesh.WAIT);
            assertNull(TestModels.verify(origin, tmp.resolve("out")), "the node still serves honest peers");
        }
    }

    @Test
    void aPeerThatStopsAnsweringIsDisconnected() throws Exception {
        try (Mesh mesh = new Mesh()) {
            PeerNode node = mesh.start(Mesh.config().keepAlive(Duration.ofMillis(100), Duration.ofMillis(800)));
            try (RawPeer p = new RawPeer(node.listenAddress())) {
                p.handshake();
                // never answers the node's pings
                assertTrue(p.closedByPeer(), "silent peer dropped after the idle timeout");
            }
        }
    }
}
