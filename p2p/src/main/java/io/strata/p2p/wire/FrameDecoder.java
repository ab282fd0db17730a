package io.strata.p2p.wire;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.TooLongFrameException;
import java.util.List;

/**
 * Splits the byte stream into frames (u32 length prefix) and parses each into a {@link Message}. The length limit
 * starts at the size of the largest handshake frame, so a stranger can make the node buffer no more than that, and
 * is raised to {@code maxFrame} once the peer has authenticated ({@link #authenticated()}). A frame over the limit
 * fails as soon as its length field arrives (nothing is buffered); empty, unknown or malformed frames raise a decoder
 * exception. After the first failure every further byte is discarded: the connection handler closes the channel.
 */
public final class FrameDecoder extends ByteToMessageDecoder {
    /** Largest frame before the handshake completes: HELLO (type, version, node id, nonce, listen port). */
    public static final int HANDSHAKE_MAX_FRAME = Wire.TYPE_FIELD + 2 + Wire.NODE_ID_LEN + Wire.NONCE_LEN + 2;

    private final int maxFrame;
    private int limit = HANDSHAKE_MAX_FRAME;
    private boolean failed;

    public FrameDecoder(int maxFrame) {
        this.maxFrame = maxFrame;
    }

    /** Raises the frame limit from the handshake's size to {@code maxFrame}; call on the channel's event loop. */
    public void authenticated() {
        limit = maxFrame;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        if (in.readableBytes() < Wire.LENGTH_FIELD) {
            return;
        }
        long length = in.getUnsignedInt(in.readerIndex());
        if (length > limit) {
            failed = true;
            in.skipBytes(in.readableBytes());
            throw new TooLongFrameException("frame of " + length + " bytes exceeds the limit of " + limit
                    + (limit == HANDSHAKE_MAX_FRAME ? " before the handshake" : ""));
        }
        if (in.readableBytes() < Wire.LENGTH_FIELD + length) {
            return;
        }
        in.skipBytes(Wire.LENGTH_FIELD);
        ByteBuf frame = in.readSlice((int) length);
        try {
            out.add(MessageCodec.decode(frame));
        } catch (RuntimeException e) {
            failed = true;
            in.skipBytes(in.readableBytes());
            throw e;
        }
    }
}
