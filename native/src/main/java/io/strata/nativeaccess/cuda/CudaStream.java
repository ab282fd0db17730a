package io.strata.nativeaccess.cuda;

import java.lang.foreign.MemorySegment;

/** A queue of device work; work on different streams may overlap (e.g. an upload and a kernel). */
public final class CudaStream extends DeviceResource {
    private final MemorySegment stream;

    CudaStream(CudaDevice device, MemorySegment stream) {
        super(device);
        this.stream = stream;
    }

    MemorySegment handle() {
        ensureOpen();
        return stream;
    }

    /** Blocks until all work queued so far has completed. */
    public void synchronize() {
        device.driver().streamSynchronize(handle());
    }

    /** Makes work queued on this stream from now on wait until {@code event} has completed (no host block). */
    public void waitFor(CudaEvent event) {
        device.driver().streamWaitEvent(handle(), event.handle());
    }

    @Override
    void free() {
        device.driver().streamDestroy(stream);
    }

    @Override
    public String toString() {
        return "CUDA stream on " + device;
    }
}
