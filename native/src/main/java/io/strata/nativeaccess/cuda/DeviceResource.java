package io.strata.nativeaccess.cuda;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Something a {@link CudaDevice} owns (memory, a stream, an event, a module): closed once, by its owner or by
 * the device's own close, and unusable afterwards (an {@link IllegalStateException}, never a driver crash).
 */
abstract sealed class DeviceResource implements AutoCloseable
        permits DeviceBuffer, ManagedBuffer, PinnedHostBuffer, RegisteredHostMemory, CudaStream, CudaEvent, CudaModule {
    final CudaDevice device;
    private final AtomicBoolean closed = new AtomicBoolean();

    /** Subclasses are built by the device, which tracks them once constructed. */
    DeviceResource(CudaDevice device) {
        this.device = device;
    }

    /** Throws unless both this resource and its device are open; makes the device's context current. */
    final void ensureOpen() {
        if (closed.get()) {
            throw new IllegalStateException(this + " is closed");
        }
        device.bind();
    }

    public final boolean isClosed() {
        return closed.get();
    }

    @Override
    public final void close() {
        if (closed.compareAndSet(false, true)) {
            try {
                device.bind();
                free();
            } finally {
                device.untrack(this);
            }
        }
    }

    /** Called by the device's close while its context is still alive. */
    final void closeByDevice() {
        if (closed.compareAndSet(false, true)) {
            free();
        }
    }

    /** Returns the native resource to the driver; runs once, with the device's context current. */
    abstract void free();
}
