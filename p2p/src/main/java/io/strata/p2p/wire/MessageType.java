package io.strata.p2p.wire;

/**
 * Message types and their payload layouts (after the type byte, big-endian). The code is what goes on the wire.
 */
public enum MessageType {
    /** u16 version | 32 node id | 32 nonce | u16 listen port (0: not listening). */
    HELLO(1),
    /** 64 Ed25519 signature over {@code Handshake.challenge(peerNonce, signerId, verifierId)}. */
    AUTH(2),
    /** 32 model hash. */
    GET_MANIFEST(3),
    /** 32 model hash | u32 json length | json | u16 sig length (0 or 96) | sig (32 publisher key | 64 signature). */
    MANIFEST(4),
    /** 32 model hash: the sender does not have this model. */
    NOT_FOUND(5),
    /** 32 model hash: ask for the have-map; also subscribes to HAVE_CHUNK updates for the model. */
    GET_HAVE(6),
    /** 32 model hash | u32 shard count | per shard: u32 chunk count | ceil(count/8) bitfield bytes (LSB first). */
    HAVE_MAP(7),
    /** 32 model hash | u32 shard | u32 chunk: the sender now has (verified) this chunk. */
    HAVE_CHUNK(8),
    /** u32 request id | 32 model hash | u32 shard | u32 chunk. */
    REQUEST(9),
    /** u32 request id | u32 shard | u32 chunk | chunk bytes (rest of the frame). */
    PIECE(10),
    /** u32 request id | u8 reason ({@link Message.Reject}). */
    REJECT(11),
    /** u32 request id: the requester no longer wants it. */
    CANCEL(12),
    /** u64 token (keep-alive). */
    PING(13),
    /** u64 token echoed. */
    PONG(14),
    /** Empty: ask for known peer addresses. */
    GET_PEERS(15),
    /** u16 count (≤ 64) | count × (u8 host length | host (ASCII) | u16 port). */
    PEERS(16);

    private static final MessageType[] BY_CODE = new MessageType[256];

    static {
        for (MessageType t : values()) {
            BY_CODE[t.code] = t;
        }
    }

    private final int code;

    MessageType(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** The type for a wire code, or null when unknown. */
    public static MessageType of(int code) {
        return code < 0 || code > 255 ? null : BY_CODE[code];
    }
}
