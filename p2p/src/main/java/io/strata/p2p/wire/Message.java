package io.strata.p2p.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;
import java.util.List;

/** Every message of the peer protocol; payload layouts are in {@link MessageType}. */
public sealed interface Message permits Message.Hello, Message.Auth, Message.GetManifest, Message.ManifestData,
        Message.NotFound, Message.GetHave, Message.HaveMap, Message.HaveChunk, Message.Request, Message.Piece,
        Message.PieceHeader, Message.Reject, Message.Cancel, Message.Ping, Message.Pong, Message.GetPeers,
        Message.Peers {

    MessageType type();

    record Hello(int version, byte[] nodeId, byte[] nonce, int listenPort) implements Message {
        public MessageType type() {
            return MessageType.HELLO;
        }
    }

    record Auth(byte[] signature) implements Message {
        public MessageType type() {
            return MessageType.AUTH;
        }
    }

    record GetManifest(ModelHash model) implements Message {
        public MessageType type() {
            return MessageType.GET_MANIFEST;
        }
    }

    /** {@code signature} is empty or 96 bytes: publisher key then Ed25519 signature over {@code json}. */
    record ManifestData(ModelHash model, byte[] json, byte[] signature) implements Message {
        public MessageType type() {
            return MessageType.MANIFEST;
        }
    }

    record NotFound(ModelHash model) implements Message {
        public MessageType type() {
            return MessageType.NOT_FOUND;
        }
    }

    record GetHave(ModelHash model) implements Message {
        public MessageType type() {
            return MessageType.GET_HAVE;
        }
    }

    record HaveMap(ModelHash model, List<Bitfield> shards) implements Message {
        public HaveMap {
            shards = List.copyOf(shards);
        }

        public MessageType type() {
            return MessageType.HAVE_MAP;
        }
    }

    record HaveChunk(ModelHash model, int shard, int chunk) implements Message {
        public MessageType type() {
            return MessageType.HAVE_CHUNK;
        }
    }

    record Request(int id, ModelHash model, int shard, int chunk) implements Message {
        public MessageType type() {
            return MessageType.REQUEST;
        }
    }

    /** A chunk with its bytes; reference counted (the receiver releases it). */
    final class Piece extends DefaultByteBufHolder implements Message {
        private final int id;
        private final int shard;
        private final int chunk;

        public Piece(int id, int shard, int chunk, ByteBuf data) {
            super(data);
            this.id = id;
            this.shard = shard;
            this.chunk = chunk;
        }

        public int id() {
            return id;
        }

        public int shard() {
            return shard;
        }

        public int chunk() {
            return chunk;
        }

        public MessageType type() {
            return MessageType.PIECE;
        }

        @Override
        public String toString() {
            return "Piece[id=" + id + ", shard=" + shard + ", chunk=" + chunk + ", bytes=" + content().readableBytes()
                    + "]";
        }
    }

    /**
     * Outbound only: the header of a PIECE frame whose {@code length} data bytes the sender writes next as a
     * FileRegion (zero-copy).
     */
    record PieceHeader(int id, int shard, int chunk, int length) implements Message {
        public MessageType type() {
            return MessageType.PIECE;
        }
    }

    /** Why a request was refused. */
    record Reject(int id, int reason) implements Message {
        public static final int NOT_FOUND = 1;
        public static final int BUSY = 2;
        public static final int BAD_REQUEST = 3;

        public MessageType type() {
            return MessageType.REJECT;
        }
    }

    record Cancel(int id) implements Message {
        public MessageType type() {
            return MessageType.CANCEL;
        }
    }

    record Ping(long token) implements Message {
        public MessageType type() {
            return MessageType.PING;
        }
    }

    record Pong(long token) implements Message {
        public MessageType type() {
            return MessageType.PONG;
        }
    }

    record GetPeers() implements Message {
        public MessageType type() {
            return MessageType.GET_PEERS;
        }
    }

    record Peers(List<PeerAddress> peers) implements Message {
        public Peers {
            peers = List.copyOf(peers);
        }

        public MessageType type() {
            return MessageType.PEERS;
        }
    }
}
