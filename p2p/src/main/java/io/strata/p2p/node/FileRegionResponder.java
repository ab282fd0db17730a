package io.strata.p2p.node;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.DefaultFileRegion;
import io.strata.p2p.store.ChunkFile;
import io.strata.p2p.wire.Message;

/**
 * Serves a chunk zero-copy: the PIECE header as a small buffer, then the file range as a FileRegion, which the NIO
 * transport hands to {@code FileChannel.transferTo} (sendfile on Linux). The region closes the file when released.
 */
public final class FileRegionResponder implements ChunkResponder {
    @Override
    public ChannelFuture respond(Channel channel, Message.Request r, ChunkFile chunk) {
        channel.write(new Message.PieceHeader(r.id(), r.shard(), r.chunk(), chunk.length()));
        return channel.writeAndFlush(new DefaultFileRegion(chunk.channel(), chunk.offset(), chunk.length()));
    }
}
