package io.strata.p2p.fetch;

import io.strata.p2p.store.ChunkKey;
import java.io.IOException;
import java.nio.ByteBuffer;

/** Where verified chunks go. Called from several verifier threads at once, each with a different chunk. */
@FunctionalInterface
public interface ChunkSink {
    void accept(ChunkKey key, ByteBuffer verified) throws IOException;
}
