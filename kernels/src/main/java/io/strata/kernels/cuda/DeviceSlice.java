package io.strata.kernels.cuda;

/** A byte range of device-addressable memory, e.g. one projection of an expert uploaded as one block. */
public record DeviceSlice(DeviceMemory buffer, long offset, long byteSize) {
    public DeviceSlice {
        if (offset < 0 || byteSize < 0 || offset > buffer.byteSize() - byteSize) {
            throw new IndexOutOfBoundsException("slice [" + offset + ", +" + byteSize + ") outside "
                    + buffer.byteSize() + "-byte " + buffer);
        }
    }

    /** The CUdeviceptr of the slice's first byte; throws if the buffer is closed. */
    public long address() {
        return buffer.address() + offset;
    }
}
