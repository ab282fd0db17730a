package io.strata.loader.tier;

import java.lang.foreign.MemorySegment;

/** Memory handed out by a tier's allocator; {@link #free()} gives it back exactly once. */
public interface Block {
    MemorySegment segment();

    void free();
}
