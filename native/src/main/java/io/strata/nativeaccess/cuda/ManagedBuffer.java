package io.strata.nativeaccess.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Managed (unified) memory from {@code cuMemAllocManaged}, advised to live on the device: one address that
 * kernels read at device-memory speed and that the host can still read and write through {@link #segment()}
 * (the driver migrates pages on demand). This is how a tier of host-addressable blocks keeps its bytes in VRAM.
 * The segment belongs to an arena that closes with the buffer, so use after free is a clear error.
 */
public final class ManagedBuffer extends DeviceResource implements DeviceMemory {
    private final long pointer;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment segment;

    @SuppressWarnings("restricted") // gives the driver's raw pointer its true size and lifetime
    ManagedBuffer(CudaDevice device, long pointer, long byteSize) {
        super(device);
        this.pointer = pointer;
        this.segment = MemorySegment.ofAddress(pointer).reinterpret(byteSize, arena, null);
    }

    /** The memory as the host sees it. */
    public MemorySegment segment() {
        if (isClosed()) {
            throw new IllegalStateException(this + " is closed");
        }
        return segment;
    }

    @Override
    public long address() {
        ensureOpen();
        return pointer;
    }

    @Override
    public long byteSize() {
        return segment.byteSize();
    }

    /**
     * Queues a DMA copy of all of {@code src} to {@code offset} on {@code stream}; the pages land on the device.
     * {@code src} must stay valid until the stream has passed the copy (pinned for a truly async copy).
     */
    public void copyFromAsync(long offset, MemorySegment src, CudaStream stream) {
        if (offset < 0 || offset > byteSize() - src.byteSize()) {
            throw new IndexOutOfBoundsException("copy of " + src.byteSize() + " bytes at offset " + offset
                    + " outside " + this);
        }
        device.driver().memcpyHtoDAsync(address() + offset, src, stream.handle());
    }

    /** Queues a migration of the pages to the device (a no-op for pages already there), when the driver can. */
    public void prefetchToDevice(CudaStream stream) {
        if (device.supportsManagedHints()) {
            device.driver().memPrefetchAsync(address(), byteSize(), device.handle(), stream.handle());
        }
    }

    @Override
    void free() {
        arena.close();
        device.driver().memFree(pointer);
        device.freed(byteSize());
    }

    @Override
    public String toString() {
        return "managed buffer 0x" + Long.toHexString(pointer) + " (" + segment.byteSize() + " bytes) on " + device;
    }
}
