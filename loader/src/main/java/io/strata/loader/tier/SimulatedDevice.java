package io.strata.loader.tier;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Device memory where there is no GPU: one off-heap allocation of a fixed capacity made at start, carved by a
 * first-fit allocator, so that it fills up and fragments like real device memory. Copies in and out are plain
 * memory copies.
 */
final class SimulatedDevice implements TierMemory {
    private static final long ALIGN = 256; // like cudaMalloc's minimum alignment

    private final Arena arena = Arena.ofShared();
    private final MemorySegment memory;
    private final FirstFitAllocator allocator;
    private int liveBlocks;
    private boolean closing;

    public SimulatedDevice(long capacity) {
        this.memory = arena.allocate(Math.max(1, capacity), ALIGN);
        this.allocator = new FirstFitAllocator(capacity, ALIGN);
    }

    public long capacity() {
        return allocator.capacity();
    }

    public FirstFitAllocator allocator() {
        return allocator;
    }

    @Override
    @SuppressWarnings("restricted") // reinterpret only narrows the segment's lifetime to its guard arena
    public Block allocate(long bytes) {
        long off;
        synchronized (this) {
            if (closing) {
                throw new IllegalStateException("simulated device is closed");
            }
            off = allocator.allocate(bytes);
            if (off < 0) {
                return null;
            }
            liveBlocks++;
        }
        // a guard arena per block: once freed, segments of it throw instead of reading reused device memory
        Arena guard = Arena.ofShared();
        MemorySegment seg = memory.asSlice(off, bytes).reinterpret(guard, null);
        return Block.of(seg, () -> {
            guard.close();
            allocator.free(off, bytes);
            released();
        });
    }

    private synchronized void released() {
        liveBlocks--;
        if (closing && liveBlocks == 0) {
            arena.close();
        }
    }

    /** Releases the device memory once every block is freed (blocks still pinned keep it alive until then). */
    @Override
    public synchronized void close() {
        if (!closing) {
            closing = true;
            if (liveBlocks == 0) {
                arena.close();
            }
        }
    }
}
