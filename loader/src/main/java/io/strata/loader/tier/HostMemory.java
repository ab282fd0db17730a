package io.strata.loader.tier;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Host tier memory: one shared FFM arena per block, so that freeing a block closes its arena and any segment still
 * referring to it throws {@link IllegalStateException} instead of reading freed memory.
 */
public final class HostMemory implements TierMemory {
    @Override
    public Block allocate(long bytes) {
        Arena arena = Arena.ofShared();
        MemorySegment seg = arena.allocate(Math.max(1, bytes), 64).asSlice(0, bytes);
        AtomicBoolean freed = new AtomicBoolean();
        return new Block() {
            @Override
            public MemorySegment segment() {
                return seg;
            }

            @Override
            public void free() {
                if (freed.compareAndSet(false, true)) {
                    arena.close();
                }
            }
        };
    }

    @Override
    public void close() {
    }
}
