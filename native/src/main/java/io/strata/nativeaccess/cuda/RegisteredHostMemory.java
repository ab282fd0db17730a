package io.strata.nativeaccess.cuda;

import java.lang.foreign.MemorySegment;

/** A host segment page-locked with {@code cuMemHostRegister} until close (which unregisters, not frees). */
public final class RegisteredHostMemory extends DeviceResource {
    private final MemorySegment host;

    RegisteredHostMemory(CudaDevice device, MemorySegment host) {
        super(device);
        this.host = host;
    }

    public MemorySegment segment() {
        if (isClosed()) {
            throw new IllegalStateException(this + " is closed");
        }
        return host;
    }

    @Override
    void free() {
        device.driver().memHostUnregister(host);
    }

    @Override
    public String toString() {
        return "registered host memory (" + host.byteSize() + " bytes) on " + device;
    }
}
