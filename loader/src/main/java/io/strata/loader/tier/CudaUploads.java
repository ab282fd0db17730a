package io.strata.loader.tier;

import io.strata.core.model.ExpertId;
import io.strata.core.model.Tier;
import io.strata.nativeaccess.cuda.CudaDevice;
import io.strata.nativeaccess.cuda.CudaEvent;
import io.strata.nativeaccess.cuda.CudaStream;
import io.strata.nativeaccess.cuda.ManagedBuffer;
import io.strata.nativeaccess.cuda.PinnedHostBuffer;
import io.strata.loader.cache.Filler;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Host-to-device uploads for the {@link CudaDeviceMemory} tier: the tier below writes an expert into a pinned
 * staging buffer, which a DMA copy on a copy stream (one per staging slot, never the compute stream) moves into
 * the device block. Prefetch threads upload this way while compute runs; a filling thread waits only for its
 * own copy. The pinned staging memory ({@code slots x slotBytes}) is the only host memory this adds.
 */
final class CudaUploads implements AutoCloseable {
    private record Slot(PinnedHostBuffer staging, CudaStream stream, CudaEvent done) {
    }

    private final CudaDeviceMemory memory;
    private final long slotBytes;
    private final List<Slot> slots = new ArrayList<>();
    private final BlockingQueue<Slot> idle;

    /**
     * @param slots     uploads that may be in flight at once (e.g. the prefetch I/O threads plus one)
     * @param slotBytes the largest block to upload this way (an expert's size); larger ones are written directly
     */
    public CudaUploads(CudaDeviceMemory memory, int slots, long slotBytes) {
        if (slots < 1 || slotBytes < 1) {
            throw new IllegalArgumentException("need >= 1 slot of >= 1 byte, got " + slots + " x " + slotBytes);
        }
        this.memory = memory;
        this.slotBytes = slotBytes;
        this.idle = new ArrayBlockingQueue<>(slots);
        CudaDevice device = memory.device();
        try {
            for (int i = 0; i < slots; i++) {
                Slot s = new Slot(device.allocatePinned(slotBytes), device.createStream(), device.createEvent(false));
                this.slots.add(s);
                idle.add(s);
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Pinned host bytes held for staging. */
    public long stagingBytes() {
        return slots.size() * slotBytes;
    }

    /**
     * Wraps the filler of the tier below so that a device block is filled through pinned staging and a DMA
     * copy. Blocks not from this memory, or larger than a slot, are filled by {@code below} directly.
     */
    public Filler filler(Filler below) {
        return (id, dst) -> fill(below, id, dst);
    }

    private Tier fill(Filler below, ExpertId id, MemorySegment dst) throws IOException {
        ManagedBuffer block = memory.bufferAt(dst.address());
        if (block == null || dst.byteSize() > slotBytes) {
            return below.fill(id, dst);
        }
        Slot slot;
        try {
            slot = idle.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted waiting for a CUDA upload slot for expert " + id);
        }
        try {
            MemorySegment staging = slot.staging().segment().asSlice(0, dst.byteSize());
            Tier from = below.fill(id, staging);
            long offset = dst.address() - block.segment().address();
            block.copyFromAsync(offset, staging, slot.stream());
            slot.done().record(slot.stream());
            slot.done().synchronize(); // this thread only; compute on other streams goes on
            return from;
        } finally {
            idle.add(slot);
        }
    }

    /** Frees the staging memory, streams and events; call after the last upload. */
    @Override
    public void close() {
        for (Slot s : slots) {
            s.done().close();
            s.stream().close();
            s.staging().close();
        }
        slots.clear();
        idle.clear();
    }
}
