package io.strata.p2p.node;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.strata.p2p.store.ChunkFile;
import io.strata.p2p.wire.Message;
import java.io.IOException;

/** Answers one chunk request the node can serve; returns the future of its last write. */
@FunctionalInterface
public interface ChunkResponder {
    /** {@code chunk} is open on a verified local chunk; the responder takes ownership of it (closes it). */
    ChannelFuture respond(Channel channel, Message.Request request, ChunkFile chunk) throws IOException;
}
