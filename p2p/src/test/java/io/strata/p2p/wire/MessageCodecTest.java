package io.strata.p2p.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;
import io.strata.core.hash.Blake3;
import io.strata.p2p.NettyLeaks;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class MessageCodecTest {
    static {
        NettyLeaks.install();
    }

    private static final ModelHash MODEL = ModelHash.ofManifest("{}".getBytes(StandardCharsets.UTF_8));

    @AfterAll
    static void noLeaks() throws InterruptedException {
        NettyLeaks.assertNoLeaks();
    }

    /** Encodes {@code m} into a frame and decodes it through the real FrameDecoder in a channel. */
    private static Message roundTrip(Message m) {
        ByteBuf frame = Unpooled.buffer();
        MessageCodec.encode(m, frame);
        assertEquals(frame.readableBytes() - Wire.LENGTH_FIELD, frame.getInt(0), "length prefix counts type+payload");
        assertEquals(m.type().code(), frame.getUnsignedByte(Wire.LENGTH_FIELD));
        return decodeRaw(frame);
    }

    private static Message decodeRaw(ByteBuf frame) {
        FrameDecoder decoder = new FrameDecoder(Wire.DEFAULT_MAX_FRAME);
        decoder.authenticated(); // the handshake's frame limit is tested against a real node
        EmbeddedChannel ch = new EmbeddedChannel(decoder);
        // split the frame in two writes: the decoder must reassemble
        int half = frame.readableBytes() / 2;
        ch.writeInbound(frame.readRetainedSlice(half));
        ch.writeInbound(frame);
        Message out = ch.readInbound();
        assertFalse(ch.finish());
        return out;
    }

    @Test
    void everyMessageRoundTrips() {
        byte[] id = new byte[32];
        byte[] nonce = new byte[32];
        new Random(1).nextBytes(id);
        new Random(2).nextBytes(nonce);
        Message.Hello h = (Message.Hello) roundTrip(new Message.Hello(1, id, nonce, 4242));
        assertArrayEquals(id, h.nodeId());
        assertArrayEquals(nonce, h.nonce());
        assertEquals(4242, h.listenPort());
        byte[] sig = new byte[64];
        sig[63] = 7;
        assertArrayEquals(sig, ((Message.Auth) roundTrip(new Message.Auth(sig))).signature());
        assertEquals(MODEL, ((Message.GetManifest) roundTrip(new Message.GetManifest(MODEL))).model());
        byte[] json = "{\"version\":1}".getBytes(StandardCharsets.UTF_8);
        Message.ManifestData md = (Message.ManifestData) roundTrip(new Message.ManifestData(MODEL, json, new byte[96]));
        assertArrayEquals(json, md.json());
        assertEquals(96, md.signature().length);
        assertEquals(0, ((Message.ManifestData) roundTrip(new Message.ManifestData(MODEL, json, new byte[0])))
                .signature().length);
        assertEquals(MODEL, ((Message.NotFound) roundTrip(new Message.NotFound(MODEL))).model());
        Bitfield b = new Bitfield(13);
        b.set(0);
        b.set(12);
        Message.HaveMap hm = (Message.HaveMap) roundTrip(new Message.HaveMap(MODEL, List.of(b, new Bitfield(0),
                Bitfield.full(64))));
        assertEquals(List.of(b, new Bitfield(0), Bitfield.full(64)), hm.shards());
        assertEquals(new Message.HaveChunk(MODEL, 3, 9), roundTrip(new Message.HaveChunk(MODEL, 3, 9)));
        assertEquals(new Message.Request(77, MODEL, 1, 2), roundTrip(new Message.Request(77, MODEL, 1, 2)));
        assertEquals(new Message.Reject(5, Message.Reject.BUSY), roundTrip(new Message.Reject(5, Message.Reject.BUSY)));
        assertEquals(new Message.Cancel(5), roundTrip(new Message.Cancel(5)));
        assertEquals(new Message.Ping(-3), roundTrip(new Message.Ping(-3)));
        assertEquals(new Message.Pong(99), roundTrip(new Message.Pong(99)));
        assertInstanceOf(Message.GetPeers.class, roundTrip(new Message.GetPeers()));
        List<PeerAddress> peers = List.of(new PeerAddress("127.0.0.1", 1), new PeerAddress("example.org", 65535));
        assertEquals(peers, ((Message.Peers) roundTrip(new Message.Peers(peers))).peers());
    }

    @Test
    void pieceCarriesItsBytesAndPieceHeaderFramesAFollowingBody() {
        byte[] data = new byte[1000];
        new Random(3).nextBytes(data);
        Message.Piece p = (Message.Piece) roundTrip(new Message.Piece(9, 2, 4, Unpooled.wrappedBuffer(data)));
        try {
            assertEquals(9, p.id());
            assertEquals(2, p.shard());
            assertEquals(4, p.chunk());
            assertArrayEquals(Blake3.hash(data), Blake3.hash(io.netty.buffer.ByteBufUtil.getBytes(p.content())));
        } finally {
            p.release();
        }
        // a header plus separately written body bytes decodes as one PIECE
        ByteBuf header = Unpooled.buffer();
        MessageCodec.encode(new Message.PieceHeader(1, 0, 0, data.length), header);
        Message.Piece q = (Message.Piece) decodeRaw(Unpooled.wrappedBuffer(header, Unpooled.wrappedBuffer(data)));
        try {
            assertArrayEquals(data, io.netty.buffer.ByteBufUtil.getBytes(q.content()));
        } finally {
            q.release();
        }
    }

    @Test
    void unknownTypeTruncatedAndTrailingBytesAreCorrupt() {
        assertCorrupt(frame(200, new byte[4]), "unknown message type 200");
        assertCorrupt(frame(MessageType.HELLO.code(), new byte[5]), "truncated");
        assertCorrupt(frame(MessageType.CANCEL.code(), new byte[5]), "trailing");
        assertCorrupt(frame(MessageType.AUTH.code(), new byte[10]), "exceeds");
        // a manifest length beyond the frame must not allocate or read past the end
        ByteBuf m = Unpooled.buffer();
        m.writeBytes(MODEL.bytes());
        m.writeInt(Integer.MAX_VALUE);
        assertCorrupt(frame(MessageType.MANIFEST.code(), io.netty.buffer.ByteBufUtil.getBytes(m)), "exceeds the frame");
        m.release();
        // bits set beyond a shard's chunk count
        ByteBuf hm = Unpooled.buffer();
        hm.writeBytes(MODEL.bytes());
        hm.writeInt(1);
        hm.writeInt(3);
        hm.writeByte(0xFF);
        assertCorrupt(frame(MessageType.HAVE_MAP.code(), io.netty.buffer.ByteBufUtil.getBytes(hm)), "beyond its size");
        hm.release();
        assertCorrupt(Unpooled.buffer(0), "empty");
    }

    @Test
    void oversizedLengthPrefixFailsFastWithoutBuffering() {
        EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(1024));
        ByteBuf b = Unpooled.buffer();
        b.writeInt(1_000_000);
        b.writeByte(MessageType.PING.code());
        DecoderException e = assertThrows(DecoderException.class, () -> ch.writeInbound(b));
        assertInstanceOf(TooLongFrameException.class, e, "fail-fast on the length prefix alone");
        ch.finishAndReleaseAll();
    }

    @Test
    void bitfieldWireForm() {
        Bitfield b = new Bitfield(10);
        b.set(1);
        b.set(9);
        assertArrayEquals(new byte[]{0b10, 0b10}, b.toBytes());
        assertEquals(b, Bitfield.fromBytes(10, b.toBytes()));
        assertEquals(2, b.cardinality());
        assertTrue(b.clear(9));
        assertFalse(b.get(9));
        assertThrows(IllegalArgumentException.class, () -> Bitfield.fromBytes(10, new byte[3]));
    }

    @Test
    void peerAddressParsing() {
        assertEquals(new PeerAddress("10.0.0.1", 7000), PeerAddress.parse("10.0.0.1:7000"));
        assertEquals(new PeerAddress("::1", 7000), PeerAddress.parse("[::1]:7000"));
        assertThrows(IllegalArgumentException.class, () -> PeerAddress.parse("nohost"));
        assertThrows(IllegalArgumentException.class, () -> PeerAddress.parse("h:0"));
        assertNull(MessageType.of(0));
    }

    private static ByteBuf frame(int type, byte[] payload) {
        ByteBuf b = Unpooled.buffer();
        b.writeByte(type);
        b.writeBytes(payload);
        return b;
    }

    private static void assertCorrupt(ByteBuf body, String why) {
        try {
            CorruptedFrameException e = assertThrows(CorruptedFrameException.class, () -> MessageCodec.decode(body));
            assertTrue(e.getMessage().contains(why), e.getMessage() + " should mention " + why);
        } finally {
            body.release();
        }
    }
}
