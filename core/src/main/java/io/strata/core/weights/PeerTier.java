package io.strata.core.weights;

import java.io.IOException;
import java.lang.foreign.MemorySegment;

/**
 * The bottom tier: other machines. Implemented by the p2p module. Every chunk handed back has been verified
 * against the manifest's chunk hash; a source that cannot deliver verified bytes throws, it never returns
 * unverified ones.
 */
public interface PeerTier extends AutoCloseable {
    /**
     * Fills {@code dst} with chunks {@code [firstChunk, firstChunk + chunkCount)} of shard {@code shard} of the
     * model this tier was opened for. {@code dst.byteSize()} equals the chunks' total length.
     */
    void fetchChunks(int shard, int firstChunk, int chunkCount, MemorySegment dst) throws IOException;

    @Override
    default void close() {
    }
}
