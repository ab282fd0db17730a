package io.strata.p2p.store;

import java.nio.channels.FileChannel;

/** An open, read-only view of one stored chunk: the caller owns (closes) the channel. */
public record ChunkFile(FileChannel channel, long offset, int length) {
}
