package io.strata.p2p.wire;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.CorruptedFrameException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Encodes messages into whole frames and parses one frame's type + payload back into a message. Parsing is strict:
 * every field is bounds-checked and the payload must be consumed exactly, else {@link CorruptedFrameException}.
 */
public final class MessageCodec {
    private MessageCodec() {
    }

    /** Writes the whole frame (length prefix, type, payload) of {@code m} to {@code out}. */
    public static void encode(Message m, ByteBuf out) {
        int start = out.writerIndex();
        out.writeInt(0);
        out.writeByte(m.type().code());
        switch (m) {
            case Message.Hello h -> {
                out.writeShort(h.version());
                out.writeBytes(exact(h.nodeId(), Wire.NODE_ID_LEN, "node id"));
                out.writeBytes(exact(h.nonce(), Wire.NONCE_LEN, "nonce"));
                out.writeShort(h.listenPort());
            }
            case Message.Auth a -> out.writeBytes(exact(a.signature(), Wire.SIGNATURE_LEN, "signature"));
            case Message.GetManifest g -> out.writeBytes(g.model().bytes());
            case Message.ManifestData md -> {
                out.writeBytes(md.model().bytes());
                out.writeInt(md.json().length);
                out.writeBytes(md.json());
                out.writeShort(md.signature().length);
                out.writeBytes(md.signature());
            }
            case Message.NotFound n -> out.writeBytes(n.model().bytes());
            case Message.GetHave g -> out.writeBytes(g.model().bytes());
            case Message.HaveMap hm -> {
                out.writeBytes(hm.model().bytes());
                out.writeInt(hm.shards().size());
                for (Bitfield b : hm.shards()) {
                    out.writeInt(b.size());
                    out.writeBytes(b.toBytes());
                }
            }
            case Message.HaveChunk hc -> {
                out.writeBytes(hc.model().bytes());
                out.writeInt(hc.shard());
                out.writeInt(hc.chunk());
            }
            case Message.Request r -> {
                out.writeInt(r.id());
                out.writeBytes(r.model().bytes());
                out.writeInt(r.shard());
                out.writeInt(r.chunk());
            }
            case Message.Piece p -> {
                out.writeInt(p.id());
                out.writeInt(p.shard());
                out.writeInt(p.chunk());
                out.writeBytes(p.content(), p.content().readerIndex(), p.content().readableBytes());
            }
            case Message.PieceHeader ph -> {
                out.writeInt(ph.id());
                out.writeInt(ph.shard());
                out.writeInt(ph.chunk());
            }
            case Message.Reject r -> {
                out.writeInt(r.id());
                out.writeByte(r.reason());
            }
            case Message.Cancel c -> out.writeInt(c.id());
            case Message.Ping p -> out.writeLong(p.token());
            case Message.Pong p -> out.writeLong(p.token());
            case Message.GetPeers ignored -> {
            }
            case Message.Peers ps -> {
                if (ps.peers().size() > Wire.MAX_PEERS_PER_FRAME) {
                    throw new IllegalArgumentException("at most " + Wire.MAX_PEERS_PER_FRAME + " peers per frame");
                }
                out.writeShort(ps.peers().size());
                for (PeerAddress a : ps.peers()) {
                    byte[] host = a.host().getBytes(StandardCharsets.US_ASCII);
                    out.writeByte(host.length);
                    out.writeBytes(host);
                    out.writeShort(a.port());
                }
            }
        }
        int length = out.writerIndex() - start - Wire.LENGTH_FIELD;
        if (m instanceof Message.PieceHeader ph) {
            length += ph.length();
        }
        out.setInt(start, length);
    }

    /**
     * Parses one frame body (type byte + payload; the length prefix already stripped). A PIECE's data is a retained
     * slice of {@code frame}; the caller still releases {@code frame}.
     */
    public static Message decode(ByteBuf frame) {
        if (!frame.isReadable()) {
            throw new CorruptedFrameException("empty frame");
        }
        int code = frame.readUnsignedByte();
        MessageType type = MessageType.of(code);
        if (type == null) {
            throw new CorruptedFrameException("unknown message type " + code);
        }
        try {
            Message m = switch (type) {
                case HELLO -> new Message.Hello(frame.readUnsignedShort(), bytes(frame, Wire.NODE_ID_LEN),
                        bytes(frame, Wire.NONCE_LEN), frame.readUnsignedShort());
                case AUTH -> new Message.Auth(bytes(frame, Wire.SIGNATURE_LEN));
                case GET_MANIFEST -> new Message.GetManifest(model(frame));
                case MANIFEST -> {
                    ModelHash h = model(frame);
                    byte[] json = bytes(frame, length(frame, frame.readInt(), "manifest"));
                    int sigLen = frame.readUnsignedShort();
                    if (sigLen != 0 && sigLen != Wire.NODE_ID_LEN + Wire.SIGNATURE_LEN) {
                        throw new CorruptedFrameException("manifest signature of " + sigLen + " bytes");
                    }
                    yield new Message.ManifestData(h, json, bytes(frame, sigLen));
                }
                case NOT_FOUND -> new Message.NotFound(model(frame));
                case GET_HAVE -> new Message.GetHave(model(frame));
                case HAVE_MAP -> {
                    ModelHash h = model(frame);
                    int n = frame.readInt();
                    if (n < 0 || n > Wire.MAX_SHARDS || n * 4L > frame.readableBytes()) {
                        throw new CorruptedFrameException("have-map with " + n + " shards");
                    }
                    List<Bitfield> shards = new ArrayList<>(n);
                    for (int i = 0; i < n; i++) {
                        int bits = frame.readInt();
                        if (bits < 0 || (bits + 7L) / 8 > frame.readableBytes()) {
                            throw new CorruptedFrameException("have-map shard " + i + " claims " + bits + " chunks");
                        }
                        shards.add(Bitfield.fromBytes(bits, bytes(frame, (bits + 7) >>> 3)));
                    }
                    yield new Message.HaveMap(h, shards);
                }
                case HAVE_CHUNK -> new Message.HaveChunk(model(frame), nonNegative(frame.readInt()),
                        nonNegative(frame.readInt()));
                case REQUEST -> new Message.Request(frame.readInt(), model(frame), nonNegative(frame.readInt()),
                        nonNegative(frame.readInt()));
                case PIECE -> {
                    int id = frame.readInt();
                    int shard = nonNegative(frame.readInt());
                    int chunk = nonNegative(frame.readInt());
                    yield new Message.Piece(id, shard, chunk, frame.readRetainedSlice(frame.readableBytes()));
                }
                case REJECT -> new Message.Reject(frame.readInt(), frame.readUnsignedByte());
                case CANCEL -> new Message.Cancel(frame.readInt());
                case PING -> new Message.Ping(frame.readLong());
                case PONG -> new Message.Pong(frame.readLong());
                case GET_PEERS -> new Message.GetPeers();
                case PEERS -> {
                    int n = frame.readUnsignedShort();
                    if (n > Wire.MAX_PEERS_PER_FRAME) {
                        throw new CorruptedFrameException("peer list of " + n + " entries (limit "
                                + Wire.MAX_PEERS_PER_FRAME + ")");
                    }
                    List<PeerAddress> peers = new ArrayList<>(n);
                    for (int i = 0; i < n; i++) {
                        String host = new String(bytes(frame, frame.readUnsignedByte()), StandardCharsets.US_ASCII);
                        try {
                            peers.add(new PeerAddress(host, frame.readUnsignedShort()));
                        } catch (IllegalArgumentException e) {
                            throw new CorruptedFrameException("bad peer address: " + e.getMessage());
                        }
                    }
                    yield new Message.Peers(peers);
                }
            };
            if (frame.isReadable()) {
                if (m instanceof Message.Piece p) {
                    p.release();
                }
                throw new CorruptedFrameException(type + " frame has " + frame.readableBytes() + " trailing bytes");
            }
            return m;
        } catch (IndexOutOfBoundsException e) {
            throw new CorruptedFrameException(type + " frame is truncated");
        } catch (IllegalArgumentException e) {
            throw new CorruptedFrameException(type + " frame: " + e.getMessage());
        }
    }

    private static byte[] exact(byte[] b, int len, String what) {
        if (b.length != len) {
            throw new IllegalArgumentException(what + " must be " + len + " bytes, got " + b.length);
        }
        return b;
    }

    private static ModelHash model(ByteBuf in) {
        return ModelHash.of(bytes(in, Wire.MODEL_HASH_LEN));
    }

    private static int length(ByteBuf in, int len, String what) {
        if (len < 0 || len > in.readableBytes()) {
            throw new CorruptedFrameException(what + " length " + len + " exceeds the frame");
        }
        return len;
    }

    private static int nonNegative(int v) {
        if (v < 0) {
            throw new CorruptedFrameException("negative index " + v);
        }
        return v;
    }

    private static byte[] bytes(ByteBuf in, int n) {
        if (n > in.readableBytes()) {
            throw new CorruptedFrameException("truncated frame: field of " + n + " bytes exceeds the frame");
        }
        byte[] b = new byte[n];
        in.readBytes(b);
        return b;
    }
}
