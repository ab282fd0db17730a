package io.strata.nativeaccess.cuda;

/** Memory a kernel can address: device memory ({@link DeviceBuffer}) or managed memory ({@link ManagedBuffer}). */
public sealed interface DeviceMemory permits DeviceBuffer, ManagedBuffer, ExternalMemory {
    /** The CUdeviceptr of the first byte; throws {@link IllegalStateException} once freed. */
    long address();

    long byteSize();

    default DeviceSlice whole() {
        return new DeviceSlice(this, 0, byteSize());
    }

    default DeviceSlice slice(long offset, long bytes) {
        return new DeviceSlice(this, offset, bytes);
    }
}
