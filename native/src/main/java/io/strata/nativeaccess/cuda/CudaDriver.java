package io.strata.nativeaccess.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.Objects;
import java.util.Optional;

/**
 * The CUDA driver API ({@code libcuda.so.1}) bound through FFM downcalls: no JNI and no CUDA toolkit at run
 * time, only the driver that ships with the NVIDIA kernel module. Every call's CUresult is checked and turned
 * into a {@link CudaException} naming the function and the error.
 *
 * <p>This is the raw layer: handles are {@link MemorySegment}s (contexts, streams, events, modules, functions)
 * or {@code long}s (device pointers), and the caller makes a context current. {@link CudaDevice} and its
 * buffers, streams and events are the safe wrappers the rest of Strata uses.
 *
 * <p>{@link #load()} looks for the driver once per process and says why when there is none (no library, a
 * library without the driver API, {@code cuInit} failing, no device), logging that as one line.
 */
@SuppressWarnings("restricted") // the point of this class: native downcalls into libcuda
public final class CudaDriver {
    /** The driver library's soname, as the NVIDIA driver installs it. */
    public static final String LIBRARY = "libcuda.so.1";

    public static final int CUDA_SUCCESS = 0;
    public static final int CUDA_ERROR_NOT_READY = 600;
    public static final int CU_MEMHOSTALLOC_PORTABLE = 0x01;
    public static final int CU_MEMHOSTREGISTER_PORTABLE = 0x01;
    public static final int CU_STREAM_NON_BLOCKING = 0x01;
    public static final int CU_EVENT_DEFAULT = 0x00;
    public static final int CU_EVENT_DISABLE_TIMING = 0x02;
    public static final int CU_MEM_ATTACH_GLOBAL = 0x1;
    public static final int CU_MEM_ADVISE_SET_PREFERRED_LOCATION = 3;
    public static final int CU_MEM_ADVISE_SET_ACCESSED_BY = 5;
    public static final int CU_DEVICE_ATTRIBUTE_MANAGED_MEMORY = 83;
    public static final int CU_POINTER_ATTRIBUTE_DEVICE_POINTER = 3;
    public static final int CU_DEVICE_ATTRIBUTE_CONCURRENT_MANAGED_ACCESS = 89;
    public static final int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
    public static final int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
    private static final int CU_JIT_ERROR_LOG_BUFFER = 5;
    private static final int CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6;
    private static final int JIT_LOG_BYTES = 8192;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final System.Logger LOG = System.getLogger(CudaDriver.class.getName());

    /** Whether a usable driver was found: the driver, or the reason there is none (empty when present). */
    public record Availability(Optional<CudaDriver> driver, String reason) {
        public Availability {
            Objects.requireNonNull(driver);
            Objects.requireNonNull(reason);
        }

        public boolean isPresent() {
            return driver.isPresent();
        }
    }

    /** Holder idiom: the default library is probed, and the outcome logged, once per process. */
    private static final class Default {
        static final Availability AVAILABILITY = logged(probe(LIBRARY));
    }

    private final String library;
    private final MethodHandle cuInit;
    private final MethodHandle cuDriverGetVersion;
    private final MethodHandle cuGetErrorName;
    private final MethodHandle cuGetErrorString;
    private final MethodHandle cuDeviceGetCount;
    private final MethodHandle cuDeviceGet;
    private final MethodHandle cuDeviceGetName;
    private final MethodHandle cuDeviceTotalMem;
    private final MethodHandle cuDeviceGetAttribute;
    private final MethodHandle cuDevicePrimaryCtxRetain;
    private final MethodHandle cuDevicePrimaryCtxRelease;
    private final MethodHandle cuCtxSetCurrent;
    private final MethodHandle cuCtxSynchronize;
    private final MethodHandle cuMemGetInfo;
    private final MethodHandle cuMemAlloc;
    private final MethodHandle cuMemFree;
    private final MethodHandle cuMemHostAlloc;
    private final MethodHandle cuMemFreeHost;
    private final MethodHandle cuMemHostRegister;
    private final MethodHandle cuMemHostUnregister;
    private final MethodHandle cuMemcpyHtoD;
    private final MethodHandle cuMemcpyHtoDAsync;
    private final MethodHandle cuMemcpyDtoH;
    private final MethodHandle cuMemcpyDtoHAsync;
    private final MethodHandle cuMemsetD8;
    private final MethodHandle cuStreamCreate;
    private final MethodHandle cuStreamDestroy;
    private final MethodHandle cuStreamSynchronize;
    private final MethodHandle cuStreamWaitEvent;
    private final MethodHandle cuEventCreate;
    private final MethodHandle cuEventRecord;
    private final MethodHandle cuEventSynchronize;
    private final MethodHandle cuEventQuery;
    private final MethodHandle cuEventElapsedTime;
    private final MethodHandle cuEventDestroy;
    private final MethodHandle cuMemAllocManaged;
    private final MethodHandle cuPointerGetAttribute;
    private final MethodHandle cuMemAdvise; // null when the driver lacks the CUDA 8 signature
    private final MethodHandle cuMemPrefetchAsync; // likewise
    private final MethodHandle cuModuleLoadDataEx;
    private final MethodHandle cuModuleUnload;
    private final MethodHandle cuModuleGetFunction;
    private final MethodHandle cuLaunchKernel;

    private CudaDriver(String library, SymbolLookup lookup) {
        this.library = library;
        Binder b = new Binder(lookup);
        cuInit = b.bind("cuInit", JAVA_INT);
        cuDriverGetVersion = b.bind("cuDriverGetVersion", ADDRESS);
        cuGetErrorName = b.bind("cuGetErrorName", JAVA_INT, ADDRESS);
        cuGetErrorString = b.bind("cuGetErrorString", JAVA_INT, ADDRESS);
        cuDeviceGetCount = b.bind("cuDeviceGetCount", ADDRESS);
        cuDeviceGet = b.bind("cuDeviceGet", ADDRESS, JAVA_INT);
        cuDeviceGetName = b.bind("cuDeviceGetName", ADDRESS, JAVA_INT, JAVA_INT);
        cuDeviceTotalMem = b.bind("cuDeviceTotalMem_v2", ADDRESS, JAVA_INT);
        cuDeviceGetAttribute = b.bind("cuDeviceGetAttribute", ADDRESS, JAVA_INT, JAVA_INT);
        cuDevicePrimaryCtxRetain = b.bind("cuDevicePrimaryCtxRetain", ADDRESS, JAVA_INT);
        cuDevicePrimaryCtxRelease = b.bind("cuDevicePrimaryCtxRelease_v2", JAVA_INT);
        cuCtxSetCurrent = b.bind("cuCtxSetCurrent", ADDRESS);
        cuCtxSynchronize = b.bind("cuCtxSynchronize");
        cuMemGetInfo = b.bind("cuMemGetInfo_v2", ADDRESS, ADDRESS);
        cuMemAlloc = b.bind("cuMemAlloc_v2", ADDRESS, JAVA_LONG);
        cuMemFree = b.bind("cuMemFree_v2", JAVA_LONG);
        cuMemHostAlloc = b.bind("cuMemHostAlloc", ADDRESS, JAVA_LONG, JAVA_INT);
        cuMemFreeHost = b.bind("cuMemFreeHost", ADDRESS);
        cuMemHostRegister = b.bind("cuMemHostRegister_v2", ADDRESS, JAVA_LONG, JAVA_INT);
        cuMemHostUnregister = b.bind("cuMemHostUnregister", ADDRESS);
        cuMemcpyHtoD = b.bind("cuMemcpyHtoD_v2", JAVA_LONG, ADDRESS, JAVA_LONG);
        cuMemcpyHtoDAsync = b.bind("cuMemcpyHtoDAsync_v2", JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS);
        cuMemcpyDtoH = b.bind("cuMemcpyDtoH_v2", ADDRESS, JAVA_LONG, JAVA_LONG);
        cuMemcpyDtoHAsync = b.bind("cuMemcpyDtoHAsync_v2", ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS);
        cuMemsetD8 = b.bind("cuMemsetD8_v2", JAVA_LONG, JAVA_BYTE, JAVA_LONG);
        cuStreamCreate = b.bind("cuStreamCreate", ADDRESS, JAVA_INT);
        cuStreamDestroy = b.bind("cuStreamDestroy_v2", ADDRESS);
        cuStreamSynchronize = b.bind("cuStreamSynchronize", ADDRESS);
        cuStreamWaitEvent = b.bind("cuStreamWaitEvent", ADDRESS, ADDRESS, JAVA_INT);
        cuEventCreate = b.bind("cuEventCreate", ADDRESS, JAVA_INT);
        cuEventRecord = b.bind("cuEventRecord", ADDRESS, ADDRESS);
        cuEventSynchronize = b.bind("cuEventSynchronize", ADDRESS);
        cuEventQuery = b.bind("cuEventQuery", ADDRESS);
        // CUDA 12.8 added _v2 (and CUDA 13 headers map the name to it); older drivers have only the first one.
        cuEventElapsedTime = b.bindFirst(new String[]{"cuEventElapsedTime_v2", "cuEventElapsedTime"},
                ADDRESS, ADDRESS, ADDRESS);
        cuEventDestroy = b.bind("cuEventDestroy_v2", ADDRESS);
        cuMemAllocManaged = b.bind("cuMemAllocManaged", ADDRESS, JAVA_LONG, JAVA_INT);
        cuPointerGetAttribute = b.bind("cuPointerGetAttribute", ADDRESS, JAVA_INT, JAVA_LONG);
        // The CUDA 8 forms (a CUdevice, not a CUmemLocation); CUDA 13 drivers still export them for old binaries.
        cuMemAdvise = b.bindOptional("cuMemAdvise", JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT);
        cuMemPrefetchAsync = b.bindOptional("cuMemPrefetchAsync", JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS);
        cuModuleLoadDataEx = b.bind("cuModuleLoadDataEx", ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS);
        cuModuleUnload = b.bind("cuModuleUnload", ADDRESS);
        cuModuleGetFunction = b.bind("cuModuleGetFunction", ADDRESS, ADDRESS, ADDRESS);
        cuLaunchKernel = b.bind("cuLaunchKernel", ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS);
    }

    // ---------------------------------------------------------------------------------------------- discovery

    /** The process-wide driver, or empty (the reason is in {@link #availability()} and was logged once). */
    public static Optional<CudaDriver> load() {
        return Default.AVAILABILITY.driver();
    }

    /** The outcome of the process-wide probe of {@value #LIBRARY}. */
    public static Availability availability() {
        return Default.AVAILABILITY;
    }

    /**
     * Looks for a usable driver in {@code library} (a soname or a path); never throws for a missing or unusable
     * driver, and logs nothing. The reason always starts with the library's name.
     */
    public static Availability probe(String library) {
        Objects.requireNonNull(library, "library");
        Arena arena = Arena.ofShared();
        SymbolLookup lookup;
        try {
            lookup = SymbolLookup.libraryLookup(library, arena);
        } catch (IllegalArgumentException | IllegalCallerException e) {
            arena.close();
            return absent(library, "cannot be loaded (no NVIDIA driver installed?): " + e.getMessage());
        }
        CudaDriver driver;
        try {
            driver = new CudaDriver(library, lookup);
        } catch (MissingSymbolException e) {
            arena.close();
            return absent(library, e.getMessage());
        }
        // From here on the library stays loaded for the life of the process (the arena is never closed):
        // unloading a driver that has run cuInit is not safe.
        int rc = callInt(driver.cuInit, 0);
        if (rc != CUDA_SUCCESS) {
            return absent(library, "cuInit failed: " + driver.errorName(rc) + ": " + driver.errorString(rc));
        }
        int count;
        try {
            count = driver.deviceCount();
        } catch (CudaException e) {
            return absent(library, e.getMessage());
        }
        if (count == 0) {
            return absent(library, "the driver reports no CUDA device");
        }
        return new Availability(Optional.of(driver), "");
    }

    private static Availability absent(String library, String why) {
        return new Availability(Optional.empty(), library + ": " + why);
    }

    private static Availability logged(Availability availability) {
        if (availability.isPresent()) {
            CudaDriver d = availability.driver().orElseThrow();
            LOG.log(System.Logger.Level.INFO, "CUDA driver " + d.driverVersionString() + " with "
                    + d.deviceCount() + " device(s) via " + d.library);
        } else {
            LOG.log(System.Logger.Level.INFO, "No CUDA device tier, using the simulated device: "
                    + availability.reason());
        }
        return availability;
    }

    public String library() {
        return library;
    }

    // ---------------------------------------------------------------------------------------------- errors

    /** The CUresult's name, e.g. {@code CUDA_ERROR_OUT_OF_MEMORY}, or {@code CUresult <n>} if unknown. */
    public String errorName(int code) {
        return errorText(cuGetErrorName, code, "CUresult " + code);
    }

    /** The driver's description of a CUresult. */
    public String errorString(int code) {
        return errorText(cuGetErrorString, code, "unknown error");
    }

    private static String errorText(MethodHandle handle, int code, String fallback) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            int rc = (int) handle.invokeExact(code, out);
            MemorySegment text = out.get(ADDRESS, 0);
            if (rc != CUDA_SUCCESS || text.equals(MemorySegment.NULL)) {
                return fallback;
            }
            return text.reinterpret(4096).getString(0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private void check(int rc, String function) {
        if (rc != CUDA_SUCCESS) {
            throw new CudaException(function, rc, errorName(rc), errorString(rc));
        }
    }

    // ---------------------------------------------------------------------------------------------- devices

    /** The driver version as CUDA encodes it (1000 * major + 10 * minor). */
    public int driverVersion() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_INT);
            check((int) cuDriverGetVersion.invokeExact(out), "cuDriverGetVersion");
            return out.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public String driverVersionString() {
        int v = driverVersion();
        return (v / 1000) + "." + (v % 1000) / 10;
    }

    public int deviceCount() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_INT);
            check((int) cuDeviceGetCount.invokeExact(out), "cuDeviceGetCount");
            return out.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The CUdevice handle of device {@code ordinal}. */
    public int device(int ordinal) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_INT);
            check((int) cuDeviceGet.invokeExact(out, ordinal), "cuDeviceGet");
            return out.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public String deviceName(int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(256);
            check((int) cuDeviceGetName.invokeExact(out, 256, device), "cuDeviceGetName");
            return out.getString(0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public long deviceTotalMem(int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_LONG);
            check((int) cuDeviceTotalMem.invokeExact(out, device), "cuDeviceTotalMem_v2");
            return out.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public int deviceAttribute(int attribute, int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_INT);
            check((int) cuDeviceGetAttribute.invokeExact(out, attribute, device), "cuDeviceGetAttribute");
            return out.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---------------------------------------------------------------------------------------------- contexts

    /** Retains the device's primary context (the one the CUDA runtime shares), returning its CUcontext. */
    public MemorySegment primaryCtxRetain(int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            check((int) cuDevicePrimaryCtxRetain.invokeExact(out, device), "cuDevicePrimaryCtxRetain");
            return out.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void primaryCtxRelease(int device) {
        check(callInt(cuDevicePrimaryCtxRelease, device),
                "cuDevicePrimaryCtxRelease_v2");
    }

    /** Makes {@code context} current on the calling thread (CUDA contexts are per thread). */
    public void ctxSetCurrent(MemorySegment context) {
        check(callAddr(cuCtxSetCurrent, context), "cuCtxSetCurrent");
    }

    public void ctxSynchronize() {
        try {
            check((int) cuCtxSynchronize.invokeExact(), "cuCtxSynchronize");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Free and total memory of the current context's device, in bytes. */
    public MemInfo memGetInfo() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment free = a.allocate(JAVA_LONG);
            MemorySegment total = a.allocate(JAVA_LONG);
            check((int) cuMemGetInfo.invokeExact(free, total), "cuMemGetInfo_v2");
            return new MemInfo(free.get(JAVA_LONG, 0), total.get(JAVA_LONG, 0));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Device memory as {@code cuMemGetInfo} reports it. */
    public record MemInfo(long freeBytes, long totalBytes) {
    }

    // ---------------------------------------------------------------------------------------------- memory

    /** Allocates device memory; returns the CUdeviceptr. */
    public long memAlloc(long bytes) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_LONG);
            check((int) cuMemAlloc.invokeExact(out, bytes), "cuMemAlloc_v2");
            return out.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void memFree(long devicePointer) {
        try {
            check((int) cuMemFree.invokeExact(devicePointer), "cuMemFree_v2");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Allocates page-locked host memory; the result is a zero-length segment holding the address. */
    public MemorySegment memHostAlloc(long bytes, int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            check((int) cuMemHostAlloc.invokeExact(out, bytes, flags), "cuMemHostAlloc");
            return out.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void memFreeHost(MemorySegment hostPointer) {
        check(callAddr(cuMemFreeHost, hostPointer), "cuMemFreeHost");
    }

    /** Page-locks an existing native segment so that async copies from it are true DMA. */
    public void memHostRegister(MemorySegment host, int flags) {
        requireNative(host, "cuMemHostRegister_v2");
        try {
            check((int) cuMemHostRegister.invokeExact(host, host.byteSize(), flags), "cuMemHostRegister_v2");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void memHostUnregister(MemorySegment host) {
        check(callAddr(cuMemHostUnregister, host), "cuMemHostUnregister");
    }

    /** Synchronous host-to-device copy of all of {@code src} (a native segment). */
    public void memcpyHtoD(long dst, MemorySegment src) {
        requireNative(src, "cuMemcpyHtoD_v2");
        try {
            check((int) cuMemcpyHtoD.invokeExact(dst, src, src.byteSize()), "cuMemcpyHtoD_v2");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Host-to-device copy queued on {@code stream}; truly async only from page-locked memory. */
    public void memcpyHtoDAsync(long dst, MemorySegment src, MemorySegment stream) {
        requireNative(src, "cuMemcpyHtoDAsync_v2");
        try {
            check((int) cuMemcpyHtoDAsync.invokeExact(dst, src, src.byteSize(), stream), "cuMemcpyHtoDAsync_v2");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Synchronous device-to-host copy filling all of {@code dst} (a native segment). */
    public void memcpyDtoH(MemorySegment dst, long src) {
        requireNative(dst, "cuMemcpyDtoH_v2");
        try {
            check((int) cuMemcpyDtoH.invokeExact(dst, src, dst.byteSize()), "cuMemcpyDtoH_v2");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void memcpyDtoHAsync(MemorySegment dst, long src, MemorySegment stream) {
        requireNative(dst, "cuMemcpyDtoHAsync_v2");
        try {
            check((int) cuMemcpyDtoHAsync.invokeExact(dst, src, dst.byteSize(), stream), "cuMemcpyDtoHAsync_v2");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void memsetD8(long dst, byte value, long bytes) {
        try {
            check((int) cuMemsetD8.invokeExact(dst, value, bytes), "cuMemsetD8_v2");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Allocates managed (unified) memory: one address valid on host and device, whose pages the driver migrates
     * to where they are used; returns the CUdeviceptr, which is also the host address.
     */
    public long memAllocManaged(long bytes, int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_LONG);
            check((int) cuMemAllocManaged.invokeExact(out, bytes, flags), "cuMemAllocManaged");
            return out.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * The address at which the device reaches host or managed address {@code pointer}, or empty when the
     * driver does not know the memory (plain pageable host memory, which kernels must not be given).
     */
    public java.util.OptionalLong devicePointer(long pointer) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_LONG);
            int rc = (int) cuPointerGetAttribute.invokeExact(out, CU_POINTER_ATTRIBUTE_DEVICE_POINTER, pointer);
            return rc == CUDA_SUCCESS ? java.util.OptionalLong.of(out.get(JAVA_LONG, 0)) : java.util.OptionalLong.empty();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Whether {@link #memAdvise} and {@link #memPrefetchAsync} are available in this driver. */
    public boolean hasManagedHints() {
        return cuMemAdvise != null && cuMemPrefetchAsync != null;
    }

    /** A placement hint for managed memory ({@code device} is a CUdevice, or -1 for the CPU). */
    public void memAdvise(long pointer, long bytes, int advice, int device) {
        requireHints();
        try {
            check((int) cuMemAdvise.invokeExact(pointer, bytes, advice, device), "cuMemAdvise");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Queues a migration of managed memory to {@code device} (a CUdevice, or -1 for the CPU) on {@code stream}. */
    public void memPrefetchAsync(long pointer, long bytes, int device, MemorySegment stream) {
        requireHints();
        try {
            check((int) cuMemPrefetchAsync.invokeExact(pointer, bytes, device, stream), "cuMemPrefetchAsync");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private void requireHints() {
        if (!hasManagedHints()) {
            throw new UnsupportedOperationException(library + " lacks cuMemAdvise/cuMemPrefetchAsync (CUDA 8 forms)");
        }
    }

    // ---------------------------------------------------------------------------------------------- streams, events

    public MemorySegment streamCreate(int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            check((int) cuStreamCreate.invokeExact(out, flags), "cuStreamCreate");
            return out.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void streamDestroy(MemorySegment stream) {
        check(callAddr(cuStreamDestroy, stream), "cuStreamDestroy_v2");
    }

    public void streamSynchronize(MemorySegment stream) {
        check(callAddr(cuStreamSynchronize, stream), "cuStreamSynchronize");
    }

    /** Makes later work on {@code stream} wait for {@code event} (on the device; the host does not block). */
    public void streamWaitEvent(MemorySegment stream, MemorySegment event) {
        try {
            check((int) cuStreamWaitEvent.invokeExact(stream, event, 0), "cuStreamWaitEvent");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public MemorySegment eventCreate(int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            check((int) cuEventCreate.invokeExact(out, flags), "cuEventCreate");
            return out.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void eventRecord(MemorySegment event, MemorySegment stream) {
        try {
            check((int) cuEventRecord.invokeExact(event, stream), "cuEventRecord");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void eventSynchronize(MemorySegment event) {
        check(callAddr(cuEventSynchronize, event), "cuEventSynchronize");
    }

    /** True when all work the event captured has completed. */
    public boolean eventQuery(MemorySegment event) {
        int rc = callAddr(cuEventQuery, event);
        if (rc == CUDA_ERROR_NOT_READY) {
            return false;
        }
        check(rc, "cuEventQuery");
        return true;
    }

    /** Milliseconds between two completed events recorded with timing enabled. */
    public float eventElapsedTime(MemorySegment start, MemorySegment end) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_FLOAT);
            check((int) cuEventElapsedTime.invokeExact(out, start, end), "cuEventElapsedTime");
            return out.get(JAVA_FLOAT, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void eventDestroy(MemorySegment event) {
        check(callAddr(cuEventDestroy, event), "cuEventDestroy_v2");
    }

    // ---------------------------------------------------------------------------------------------- modules, kernels

    /**
     * Loads a module from a NUL-terminated PTX (or cubin) image; a JIT failure's log is part of the exception's
     * message.
     */
    public MemorySegment moduleLoadData(MemorySegment image) {
        requireNative(image, "cuModuleLoadDataEx");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            MemorySegment log = a.allocate(JIT_LOG_BYTES);
            MemorySegment options = a.allocate(JAVA_INT, 2);
            options.setAtIndex(JAVA_INT, 0, CU_JIT_ERROR_LOG_BUFFER);
            options.setAtIndex(JAVA_INT, 1, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES);
            MemorySegment values = a.allocate(ADDRESS, 2);
            values.setAtIndex(ADDRESS, 0, log);
            values.setAtIndex(ADDRESS, 1, MemorySegment.ofAddress(JIT_LOG_BYTES)); // a size passed as void*
            int rc = (int) cuModuleLoadDataEx.invokeExact(out, image, 2, options, values);
            if (rc != CUDA_SUCCESS) {
                String jitLog = log.getString(0).strip();
                throw new CudaException("cuModuleLoadDataEx", rc, errorName(rc),
                        errorString(rc) + (jitLog.isEmpty() ? "" : "; JIT log: " + jitLog));
            }
            return out.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void moduleUnload(MemorySegment module) {
        check(callAddr(cuModuleUnload, module), "cuModuleUnload");
    }

    public MemorySegment moduleGetFunction(MemorySegment module, String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            int rc = (int) cuModuleGetFunction.invokeExact(out, module, a.allocateFrom(name));
            if (rc != CUDA_SUCCESS) {
                throw new CudaException("cuModuleGetFunction", rc, errorName(rc), errorString(rc) + ": " + name);
            }
            return out.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Queues a kernel on {@code stream}. {@code params} is the {@code void**} array the driver expects: one
     * pointer per kernel parameter, each pointing at the parameter's value.
     */
    public void launchKernel(MemorySegment function, int gridX, int gridY, int gridZ, int blockX, int blockY,
                             int blockZ, int sharedBytes, MemorySegment stream, MemorySegment params) {
        try {
            check((int) cuLaunchKernel.invokeExact(function, gridX, gridY, gridZ, blockX, blockY, blockZ,
                    sharedBytes, stream, params, MemorySegment.NULL), "cuLaunchKernel");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---------------------------------------------------------------------------------------------- plumbing

    private static int callInt(MethodHandle handle, int arg) {
        try {
            return (int) handle.invokeExact(arg);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static int callAddr(MethodHandle handle, MemorySegment arg) {
        try {
            return (int) handle.invokeExact(arg);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static void requireNative(MemorySegment segment, String function) {
        if (!segment.isNative()) {
            throw new IllegalArgumentException(function + " needs a native (off-heap) segment, got a heap one");
        }
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new IllegalStateException("unexpected checked exception from a CUDA downcall", t);
    }

    /** Thrown while binding when the library lacks a driver API symbol. */
    private static final class MissingSymbolException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        MissingSymbolException(String message) {
            super(message);
        }
    }

    /** Looks up symbols and builds downcall handles returning CUresult (int). */
    private record Binder(SymbolLookup lookup) {
        MethodHandle bind(String name, MemoryLayout... args) {
            MemorySegment symbol = lookup.find(name).orElseThrow(() -> new MissingSymbolException(
                    "has no symbol " + name + " (not the CUDA driver, or a driver older than CUDA 11)"));
            return LINKER.downcallHandle(symbol, FunctionDescriptor.of(JAVA_INT, args));
        }

        MethodHandle bindOptional(String name, MemoryLayout... args) {
            return lookup.find(name).isPresent() ? bind(name, args) : null;
        }

        MethodHandle bindFirst(String[] names, MemoryLayout... args) {
            for (String name : names) {
                if (lookup.find(name).isPresent()) {
                    return bind(name, args);
                }
            }
            return bind(names[names.length - 1], args);
        }
    }
}
