package io.strata.nativeaccess.cuda;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One GPU, through its primary context: allocates device memory, pinned host memory, streams and events, and
 * frees whatever is still open when it is closed. Every call makes the context current on the calling thread
 * first (CUDA contexts are per thread), so any thread may use a device.
 */
public final class CudaDevice implements AutoCloseable {
    /** The smallest reserve left to the driver, the CUDA runtime of other libraries and fragmentation. */
    public static final long MIN_RESERVE_BYTES = 256L << 20;

    /** The device whose context this thread last made current (a device per thread is the common case). */
    private static final ThreadLocal<CudaDevice> CURRENT = new ThreadLocal<>();

    private final CudaDriver driver;
    private final int ordinal;
    private final int handle;
    private final MemorySegment context;
    private final String name;
    private final long totalBytes;
    private final int computeMajor;
    private final int computeMinor;
    private final Set<DeviceResource> open = ConcurrentHashMap.newKeySet();
    private final AtomicLong allocatedBytes = new AtomicLong();
    private final AtomicLong highWaterBytes = new AtomicLong();
    private volatile boolean closed;

    private CudaDevice(CudaDriver driver, int ordinal) {
        this.driver = driver;
        this.ordinal = ordinal;
        this.handle = driver.device(ordinal);
        this.context = driver.primaryCtxRetain(handle);
        this.name = driver.deviceName(handle);
        this.totalBytes = driver.deviceTotalMem(handle);
        this.computeMajor = driver.deviceAttribute(CudaDriver.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, handle);
        this.computeMinor = driver.deviceAttribute(CudaDriver.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, handle);
    }

    /** Opens device {@code ordinal} (0-based) of a loaded driver. */
    public static CudaDevice open(CudaDriver driver, int ordinal) {
        int count = driver.deviceCount();
        if (ordinal < 0 || ordinal >= count) {
            throw new IllegalArgumentException("CUDA device " + ordinal + " does not exist (" + count + " device(s))");
        }
        return new CudaDevice(driver, ordinal);
    }

    /** Device 0 when the process-wide driver is present, else empty (the reason: {@link CudaDriver#availability()}). */
    public static Optional<CudaDevice> openDefault() {
        return CudaDriver.load().map(d -> open(d, 0));
    }

    public CudaDriver driver() {
        return driver;
    }

    public int ordinal() {
        return ordinal;
    }

    public String name() {
        return name;
    }

    public long totalBytes() {
        return totalBytes;
    }

    /** Compute capability, e.g. "9.0" for an H100. */
    public String computeCapability() {
        return computeMajor + "." + computeMinor;
    }

    /** Free and total device memory now. */
    public CudaDriver.MemInfo memInfo() {
        bind();
        return driver.memGetInfo();
    }

    /** The default reserve: 5% of the device's memory, at least {@link #MIN_RESERVE_BYTES}. */
    public long defaultReserveBytes() {
        return Math.max(MIN_RESERVE_BYTES, totalBytes / 20);
    }

    /**
     * A byte budget for a device tier: the memory free now minus {@code reserveBytes}, never negative. Take it
     * once, when the tier starts, and let the tier's ledger account for its own allocations from then on.
     */
    public long budgetBytes(long reserveBytes) {
        if (reserveBytes < 0) {
            throw new IllegalArgumentException("reserve must be >= 0: " + reserveBytes);
        }
        return Math.max(0, memInfo().freeBytes() - reserveBytes);
    }

    /** Bytes of device memory allocated through this device and not yet freed. */
    public long allocatedBytes() {
        return allocatedBytes.get();
    }

    public long highWaterBytes() {
        return highWaterBytes.get();
    }

    public DeviceBuffer allocate(long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("device allocation must be > 0 bytes: " + bytes);
        }
        bind();
        long pointer = driver.memAlloc(bytes);
        long now = allocatedBytes.addAndGet(bytes);
        highWaterBytes.accumulateAndGet(now, Math::max);
        return track(new DeviceBuffer(this, pointer, bytes));
    }

    /**
     * Managed memory advised to live on this device: host-addressable (a {@link java.lang.foreign.MemorySegment})
     * and read by kernels at device speed. Counted in {@link #allocatedBytes()} like device memory.
     */
    public ManagedBuffer allocateManaged(long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("managed allocation must be > 0 bytes: " + bytes);
        }
        bind();
        long pointer = driver.memAllocManaged(bytes, CudaDriver.CU_MEM_ATTACH_GLOBAL);
        try {
            if (supportsManagedHints()) {
                driver.memAdvise(pointer, bytes, CudaDriver.CU_MEM_ADVISE_SET_PREFERRED_LOCATION, handle);
            }
        } catch (RuntimeException e) {
            driver.memFree(pointer);
            throw e;
        }
        long now = allocatedBytes.addAndGet(bytes);
        highWaterBytes.accumulateAndGet(now, Math::max);
        return track(new ManagedBuffer(this, pointer, bytes));
    }

    /** Whether this device can allocate managed memory on this system. */
    public boolean supportsManagedMemory() {
        return driver.deviceAttribute(CudaDriver.CU_DEVICE_ATTRIBUTE_MANAGED_MEMORY, handle) != 0;
    }

    /**
     * Whether placement hints and prefetches of managed memory work here: they need a driver with the CUDA 8
     * calls and a device with concurrent managed access (Linux; not Windows or WSL).
     */
    public boolean supportsManagedHints() {
        return driver.hasManagedHints()
                && driver.deviceAttribute(CudaDriver.CU_DEVICE_ATTRIBUTE_CONCURRENT_MANAGED_ACCESS, handle) != 0;
    }

    /** The CUdevice handle (for driver calls that take one). */
    int handle() {
        return handle;
    }

    /** Page-locked host memory: the source from which uploads run at full bus speed and asynchronously. */
    public PinnedHostBuffer allocatePinned(long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("pinned allocation must be > 0 bytes: " + bytes);
        }
        bind();
        MemorySegment raw = driver.memHostAlloc(bytes, CudaDriver.CU_MEMHOSTALLOC_PORTABLE);
        return track(new PinnedHostBuffer(this, raw, bytes));
    }

    /** Page-locks an existing native segment (e.g. a host tier's arena) until the registration is closed. */
    public RegisteredHostMemory register(MemorySegment host) {
        bind();
        driver.memHostRegister(host, CudaDriver.CU_MEMHOSTREGISTER_PORTABLE);
        return track(new RegisteredHostMemory(this, host));
    }

    /** A non-blocking stream (it does not serialise with the legacy default stream). */
    public CudaStream createStream() {
        bind();
        return track(new CudaStream(this, driver.streamCreate(CudaDriver.CU_STREAM_NON_BLOCKING)));
    }

    /** An event; {@code timing} enables {@link CudaEvent#elapsedMillisSince}, at a small cost per record. */
    public CudaEvent createEvent(boolean timing) {
        bind();
        return track(new CudaEvent(this, driver.eventCreate(timing ? CudaDriver.CU_EVENT_DEFAULT
                : CudaDriver.CU_EVENT_DISABLE_TIMING)));
    }

    /** Waits for all work on the device (all streams). */
    public void synchronize() {
        bind();
        driver.ctxSynchronize();
    }

    /** Makes this device's context current on the calling thread, if it is not already. */
    void bind() {
        if (closed) {
            throw new IllegalStateException("CUDA device " + ordinal + " (" + name + ") is closed");
        }
        if (CURRENT.get() != this) {
            driver.ctxSetCurrent(context);
            CURRENT.set(this);
        }
    }

    <T extends DeviceResource> T track(T resource) {
        open.add(resource);
        return resource;
    }

    void untrack(DeviceResource resource) {
        open.remove(resource);
    }

    void freed(long bytes) {
        allocatedBytes.addAndGet(-bytes);
    }

    public boolean isClosed() {
        return closed;
    }

    /** Frees everything still open on this device, then releases the primary context. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        bind();
        List<DeviceResource> left = new ArrayList<>(open);
        // Modules and buffers may be in use by queued work: let it finish first.
        RuntimeException failure = null;
        try {
            driver.ctxSynchronize();
        } catch (RuntimeException e) {
            failure = e;
        }
        for (DeviceResource r : left) {
            try {
                r.closeByDevice();
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        open.clear();
        closed = true;
        CURRENT.remove();
        driver.primaryCtxRelease(handle);
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public String toString() {
        return "CUDA device " + ordinal + " (" + name + ", sm_" + computeMajor + computeMinor + ")";
    }
}
