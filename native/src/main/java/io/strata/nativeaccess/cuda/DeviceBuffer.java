package io.strata.nativeaccess.cuda;

import java.lang.foreign.MemorySegment;

/** Device memory from {@code cuMemAlloc}; freed on close. Copies take native host segments. */
public final class DeviceBuffer extends DeviceResource implements DeviceMemory {
    private final long pointer;
    private final long byteSize;

    DeviceBuffer(CudaDevice device, long pointer, long byteSize) {
        super(device);
        this.pointer = pointer;
        this.byteSize = byteSize;
    }

    @Override
    public long address() {
        ensureOpen();
        return pointer;
    }

    @Override
    public long byteSize() {
        return byteSize;
    }

    /** Copies all of {@code src} to {@code offset}; returns when the copy is done. */
    public void copyFrom(long offset, MemorySegment src) {
        checkRange(offset, src.byteSize());
        device.driver().memcpyHtoD(address() + offset, src);
    }

    /**
     * Queues a copy of all of {@code src} to {@code offset} on {@code stream}. {@code src} must stay valid and
     * unchanged until the stream has passed the copy; it overlaps with host work only if {@code src} is pinned.
     */
    public void copyFromAsync(long offset, MemorySegment src, CudaStream stream) {
        checkRange(offset, src.byteSize());
        device.driver().memcpyHtoDAsync(address() + offset, src, stream.handle());
    }

    /** Fills all of {@code dst} from {@code offset}; returns when the copy is done. */
    public void copyTo(long offset, MemorySegment dst) {
        checkRange(offset, dst.byteSize());
        device.driver().memcpyDtoH(dst, address() + offset);
    }

    public void copyToAsync(long offset, MemorySegment dst, CudaStream stream) {
        checkRange(offset, dst.byteSize());
        device.driver().memcpyDtoHAsync(dst, address() + offset, stream.handle());
    }

    public void fill(byte value) {
        device.driver().memsetD8(address(), value, byteSize);
    }

    private void checkRange(long offset, long bytes) {
        if (offset < 0 || offset > byteSize - bytes) {
            throw new IndexOutOfBoundsException("copy of " + bytes + " bytes at offset " + offset
                    + " outside " + byteSize + "-byte device buffer");
        }
    }

    @Override
    void free() {
        device.driver().memFree(pointer);
        device.freed(byteSize);
    }

    @Override
    public String toString() {
        return "device buffer 0x" + Long.toHexString(pointer) + " (" + byteSize + " bytes) on " + device;
    }
}
