package io.strata.loader.tier;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;

/** Memory handed out by a tier's allocator; {@link #free()} gives it back exactly once. */
public interface Block {
    MemorySegment segment();

    void free();

    /** A block whose {@code release} runs on the first {@link #free()} only. */
    static Block of(MemorySegment segment, Runnable release) {
        AtomicBoolean freed = new AtomicBoolean();
        return new Block() {
            @Override
            public MemorySegment segment() {
                return segment;
            }

            @Override
            public void free() {
                if (freed.compareAndSet(false, true)) {
                    release.run();
                }
            }
        };
    }
}
