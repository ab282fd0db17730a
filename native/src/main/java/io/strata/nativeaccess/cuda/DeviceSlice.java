package io.strata.nativeaccess.cuda;

/** A byte range of device-addressable memory, e.g. one projection of an expert uploaded as one block. */
public record DeviceSlice(DeviceMemory buffer, long offset, long byteSize) {
    public DeviceSlice {
        if (offset < 0 || byteSize < 0 || offset > buffer.byteSize() - byteSize) {
            throw new IndexOutOfBoundsException("slice [" + offset + ", +" + byteSize + ") outside "
                    + buffer.byteSize() + "-byte " + buffer);
        }
    }

    /**
     * Device memory this process does not own, e.g. the device pointer of pinned or registered host memory
     * ({@code cuMemHostGetDevicePointer}): the caller keeps it alive while the slice is used.
     */
    public static DeviceSlice external(long devicePointer, long byteSize) {
        return new DeviceSlice(new ExternalMemory(devicePointer, byteSize), 0, byteSize);
    }

    /** The CUdeviceptr of the slice's first byte; throws if the buffer is closed. */
    public long address() {
        return buffer.address() + offset;
    }
}
