package io.strata.nativeaccess.cuda;

import java.lang.foreign.MemorySegment;

/** A marker in a stream: completion checks, cross-stream waits and GPU-side timing. */
public final class CudaEvent extends DeviceResource {
    private final MemorySegment event;

    CudaEvent(CudaDevice device, MemorySegment event) {
        super(device);
        this.event = event;
    }

    MemorySegment handle() {
        ensureOpen();
        return event;
    }

    /** Captures the work queued on {@code stream} so far. */
    public void record(CudaStream stream) {
        device.driver().eventRecord(handle(), stream.handle());
    }

    public void synchronize() {
        device.driver().eventSynchronize(handle());
    }

    /** True when the captured work has completed (an event never recorded counts as complete). */
    public boolean isComplete() {
        return device.driver().eventQuery(handle());
    }

    /** GPU time in milliseconds from {@code start} to this event; both must be timing events and complete. */
    public float elapsedMillisSince(CudaEvent start) {
        return device.driver().eventElapsedTime(start.handle(), handle());
    }

    @Override
    void free() {
        device.driver().eventDestroy(event);
    }

    @Override
    public String toString() {
        return "CUDA event on " + device;
    }
}
