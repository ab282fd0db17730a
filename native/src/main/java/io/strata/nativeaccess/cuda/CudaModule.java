package io.strata.nativeaccess.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A PTX module loaded on one device ({@code cuModuleLoadDataEx}, JIT-compiled by the driver) and its entry points,
 * so that compute code elsewhere (the kernels module) launches device functions without touching driver handles.
 * Unloaded on close, or with its device.
 */
public final class CudaModule extends DeviceResource {
    private final MemorySegment module;
    private final Map<String, MemorySegment> functions = new HashMap<>();
    private final String name;

    private CudaModule(CudaDevice device, MemorySegment module, String name) {
        super(device);
        this.module = module;
        this.name = name;
    }

    /** Loads {@code ptx} on {@code device} and looks up every one of {@code entryPoints}. */
    public static CudaModule load(CudaDevice device, String name, String ptx, List<String> entryPoints) {
        device.bind();
        MemorySegment module;
        try (Arena a = Arena.ofConfined()) {
            module = device.driver().moduleLoadData(a.allocateFrom(ptx));
        }
        try {
            CudaModule m = new CudaModule(device, module, name);
            for (String e : entryPoints) {
                m.functions.put(e, device.driver().moduleGetFunction(module, e));
            }
            return device.track(m);
        } catch (RuntimeException e) {
            device.driver().moduleUnload(module);
            throw e;
        }
    }

    /**
     * Queues {@code entry(pointers..., ints...)} on {@code stream} with the given grid and block: each pointer is
     * passed as a 64-bit device address, each int as a 32-bit int, in that order.
     */
    public void launch(String entry, int gridX, int blockX, CudaStream stream, long[] pointers, int... ints) {
        ensureOpen();
        MemorySegment function = functions.get(entry);
        if (function == null) {
            throw new IllegalArgumentException(this + " has no entry point '" + entry + "' (has "
                    + functions.keySet() + ")");
        }
        try (Arena a = Arena.ofConfined()) {
            // void** kernelParams: one pointer per parameter, to the parameter's value; read at launch time.
            MemorySegment params = a.allocate(ADDRESS, pointers.length + ints.length);
            for (int i = 0; i < pointers.length; i++) {
                params.setAtIndex(ADDRESS, i, a.allocateFrom(JAVA_LONG, pointers[i]));
            }
            for (int i = 0; i < ints.length; i++) {
                params.setAtIndex(ADDRESS, pointers.length + i, a.allocateFrom(JAVA_INT, ints[i]));
            }
            device.driver().launchKernel(function, gridX, 1, 1, blockX, 1, 1, 0, stream.handle(), params);
        }
    }

    @Override
    void free() {
        device.driver().moduleUnload(module);
    }

    @Override
    public String toString() {
        return "CUDA module " + name + " on " + device;
    }
}
