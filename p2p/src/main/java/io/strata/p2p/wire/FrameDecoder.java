package io.strata.p2p.wire;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;

/**
 * Splits the byte stream into frames (u32 length prefix, bounded by {@code maxFrame}, fail-fast) and parses each
 * into a {@link Message}. Oversized, empty, unknown or malformed frames raise a decoder exception; the connection
 * handler closes the channel on it.
 */
public final class FrameDecoder extends LengthFieldBasedFrameDecoder {
    public FrameDecoder(int maxFrame) {
        super(maxFrame + Wire.LENGTH_FIELD, 0, Wire.LENGTH_FIELD, 0, Wire.LENGTH_FIELD, true);
    }

    @Override
    protected Object decode(ChannelHandlerContext ctx, ByteBuf in) throws Exception {
        ByteBuf frame = (ByteBuf) super.decode(ctx, in);
        if (frame == null) {
            return null;
        }
        try {
            return MessageCodec.decode(frame);
        } finally {
            frame.release();
        }
    }
}
