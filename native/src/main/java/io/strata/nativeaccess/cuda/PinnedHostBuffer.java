package io.strata.nativeaccess.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Page-locked host memory from {@code cuMemHostAlloc}. Its segment belongs to an arena that closes with the
 * buffer, so reading it after close is a clear {@link IllegalStateException}, not a read of freed memory.
 */
public final class PinnedHostBuffer extends DeviceResource {
    private final MemorySegment raw;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment segment;

    @SuppressWarnings("restricted") // gives the driver's raw pointer its true size and lifetime
    PinnedHostBuffer(CudaDevice device, MemorySegment raw, long byteSize) {
        super(device);
        this.raw = raw;
        this.segment = raw.reinterpret(byteSize, arena, null);
    }

    public MemorySegment segment() {
        if (isClosed()) {
            throw new IllegalStateException(this + " is closed");
        }
        return segment;
    }

    public long byteSize() {
        return segment.byteSize();
    }

    @Override
    void free() {
        arena.close();
        device.driver().memFreeHost(raw);
    }

    @Override
    public String toString() {
        return "pinned host buffer (" + segment.byteSize() + " bytes) on " + device;
    }
}
