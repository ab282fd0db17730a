package io.strata.p2p.wire;

/**
 * The frame layout of the Strata peer protocol, in one place. Every frame is
 * <pre>
 *   u32 length   (bytes that follow: 1 + payload; 1 ≤ length ≤ maxFrame)
 *   u8  type     ({@link MessageType#code()})
 *   payload      (big-endian fields, layout per message type in {@link MessageType})
 * </pre>
 * A frame longer than the receiver's limit, of an unknown type, or whose payload does not parse exactly closes the
 * connection. Version {@link #PROTOCOL_VERSION} is exchanged in HELLO; a peer on another version is refused.
 */
public final class Wire {
    public static final int PROTOCOL_VERSION = 1;
    /** Bytes of the length prefix. */
    public static final int LENGTH_FIELD = 4;
    /** Bytes of the type field. */
    public static final int TYPE_FIELD = 1;
    /** Ed25519 public key = node id. */
    public static final int NODE_ID_LEN = 32;
    public static final int NONCE_LEN = 32;
    public static final int SIGNATURE_LEN = 64;
    /** BLAKE3 of manifest.json: names a model on the wire. */
    public static final int MODEL_HASH_LEN = 32;
    /** Header of a PIECE frame after the type byte: request id, shard, chunk. */
    public static final int PIECE_HEADER = 12;
    /** Default frame limit: a 4 MiB chunk plus header, or a manifest of up to 16 MiB. */
    public static final int DEFAULT_MAX_FRAME = 16 << 20;
    /** Largest chunk size a node will serve or accept (the manifest's chunkSize must not exceed it). */
    public static final int MAX_CHUNK = 8 << 20;
    /** Bounds on lists carried in one frame. */
    public static final int MAX_PEERS_PER_FRAME = 64;
    public static final int MAX_HOST_LEN = 255;
    public static final int MAX_SHARDS = 1 << 20;

    private Wire() {
    }
}
