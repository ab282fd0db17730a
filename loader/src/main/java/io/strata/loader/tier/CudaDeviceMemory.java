package io.strata.loader.tier;

import io.strata.nativeaccess.cuda.CudaDevice;
import io.strata.nativeaccess.cuda.ManagedBuffer;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Device tier memory on a real GPU: each block is managed memory advised to live in VRAM, so the rest of the
 * runtime keeps seeing blocks as {@link java.lang.foreign.MemorySegment}s (fillers write them, the CPU decoder
 * can still read them) while GPU kernels read them at device-memory speed through the same address. Blocks are
 * refused ({@code null}) beyond {@link #capacity()}, like a full device; the ledger is expected to stay below it.
 * Freeing a block closes its segment, so a stale view fails with {@link IllegalStateException}. Like
 * {@link SimulatedDevice}, closing waits for the last live block before the device itself is released.
 *
 * <p>Fill blocks through {@link CudaUploads} to land the bytes with a DMA copy from pinned memory on a copy
 * stream, rather than CPU writes that the driver would later migrate page by page.
 */
final class CudaDeviceMemory implements TierMemory {
    private final CudaDevice device;
    private final boolean ownsDevice;
    private final long capacity;
    private final AtomicLong allocated = new AtomicLong();
    private final ConcurrentHashMap<Long, ManagedBuffer> byAddress = new ConcurrentHashMap<>();
    private volatile boolean closed;
    private boolean deviceReleased;

    /**
     * @param capacity   the most bytes this memory hands out (the tier's usable budget)
     * @param ownsDevice whether {@link #close()} also closes the device
     */
    public CudaDeviceMemory(CudaDevice device, long capacity, boolean ownsDevice) {
        if (capacity < 0) {
            throw new IllegalArgumentException("capacity must be >= 0: " + capacity);
        }
        if (!device.supportsManagedMemory()) {
            throw new IllegalStateException(device + " cannot allocate managed memory on this system");
        }
        this.device = device;
        this.capacity = capacity;
        this.ownsDevice = ownsDevice;
    }

    public CudaDevice device() {
        return device;
    }

    public long capacity() {
        return capacity;
    }

    /** Bytes in live blocks. */
    public long allocatedBytes() {
        return allocated.get();
    }

    @Override
    public Block allocate(long bytes) {
        if (closed) {
            throw new IllegalStateException("CUDA device memory on " + device + " is closed");
        }
        if (bytes <= 0) {
            throw new IllegalArgumentException("block size must be > 0: " + bytes);
        }
        long now = allocated.addAndGet(bytes);
        if (now > capacity) {
            allocated.addAndGet(-bytes);
            return null;
        }
        ManagedBuffer buffer;
        try {
            buffer = device.allocateManaged(bytes);
        } catch (RuntimeException e) {
            allocated.addAndGet(-bytes);
            throw e;
        }
        byAddress.put(buffer.segment().address(), buffer);
        return new CudaBlock(buffer);
    }

    /** The managed buffer whose first byte is at {@code address}, if it is a live block of this memory. */
    ManagedBuffer bufferAt(long address) {
        return byAddress.get(address);
    }

    /** Refuses new blocks; the device (if owned) is released once the last live block is freed. */
    @Override
    public void close() {
        closed = true;
        releaseDeviceIfIdle();
    }

    private synchronized void releaseDeviceIfIdle() {
        if (closed && ownsDevice && !deviceReleased && byAddress.isEmpty()) {
            deviceReleased = true;
            device.close();
        }
    }

    private final class CudaBlock implements Block {
        private final ManagedBuffer buffer;
        private final MemorySegment segment;

        CudaBlock(ManagedBuffer buffer) {
            this.buffer = buffer;
            this.segment = buffer.segment();
        }

        @Override
        public MemorySegment segment() {
            return segment;
        }

        @Override
        public void free() {
            if (byAddress.remove(segment.address(), buffer)) {
                buffer.close();
                allocated.addAndGet(-buffer.byteSize());
                releaseDeviceIfIdle();
            }
        }
    }
}
