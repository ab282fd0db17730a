package io.strata.kernels.cuda;

import io.strata.nativeaccess.cuda.CudaDevice;
import io.strata.nativeaccess.cuda.CudaStream;
import io.strata.nativeaccess.cuda.CudaModule;
import io.strata.nativeaccess.cuda.DeviceSlice;

import io.strata.core.model.DType;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The expert kernels (expert_kernels.ptx, shipped as a resource and JIT-compiled by the driver with
 * {@code cuModuleLoadDataEx}) on one device: {@code y = W x} for a row-major [out][in] weight, and the fused
 * SwiGLU gate {@code h = silu(W1 x) * (W3 x)}, with F32 or BF16 weights and F32 vectors. One warp per output
 * row. Launches are asynchronous on the given stream.
 */
public final class CudaKernels implements AutoCloseable {
    /** The PTX resource, next to this class. */
    public static final String PTX_RESOURCE = "expert_kernels.ptx";
    /** The kernels the PTX must define. */
    public static final List<String> ENTRY_POINTS = List.of("matvec_f32", "matvec_bf16", "swiglu_f32", "swiglu_bf16");

    private static final int WARPS_PER_BLOCK = 8;
    private static final int THREADS_PER_BLOCK = 32 * WARPS_PER_BLOCK;

    private final CudaModule module;

    private CudaKernels(CudaModule module) {
        this.module = module;
    }

    /** Loads the module on {@code device}; it is unloaded on close (or with the device). */
    public static CudaKernels load(CudaDevice device) {
        return new CudaKernels(CudaModule.load(device, PTX_RESOURCE, ptxText(), ENTRY_POINTS));
    }

    /** The PTX source text, read from the classpath. */
    public static String ptxText() {
        try (InputStream in = CudaKernels.class.getResourceAsStream(PTX_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("PTX resource " + PTX_RESOURCE + " is missing next to "
                        + CudaKernels.class.getName() + " (a broken build?)");
            }
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read PTX resource " + PTX_RESOURCE, e);
        }
    }

    /** Queues {@code y[r] = sum_c W[r][c] x[c]} for a row-major [rows][cols] weight of type {@code wType}. */
    public void matvec(DType wType, DeviceSlice w, DeviceSlice x, DeviceSlice y, int rows, int cols,
                       CudaStream stream) {
        checkShape(rows, cols);
        requireBytes("W", w, wType, (long) rows * cols);
        requireBytes("x", x, DType.F32, cols);
        requireBytes("y", y, DType.F32, rows);
        launch(wType == DType.F32 ? "matvec_f32" : "matvec_bf16", rows, cols, stream,
                w.address(), x.address(), y.address());
    }

    /** Queues {@code h[r] = silu(W1[r] . x) * (W3[r] . x)} for row-major [rows][cols] W1 and W3. */
    public void swiglu(DType wType, DeviceSlice w1, DeviceSlice w3, DeviceSlice x, DeviceSlice h, int rows,
                       int cols, CudaStream stream) {
        checkShape(rows, cols);
        requireBytes("W1", w1, wType, (long) rows * cols);
        requireBytes("W3", w3, wType, (long) rows * cols);
        requireBytes("x", x, DType.F32, cols);
        requireBytes("h", h, DType.F32, rows);
        launch(wType == DType.F32 ? "swiglu_f32" : "swiglu_bf16", rows, cols, stream,
                w1.address(), w3.address(), x.address(), h.address());
    }

    /** Launches {@code entry(pointers..., rows, cols)} with one warp per row. */
    private void launch(String entry, int rows, int cols, CudaStream stream, long... pointers) {
        int blocks = (rows + WARPS_PER_BLOCK - 1) / WARPS_PER_BLOCK;
        module.launch(entry, blocks, THREADS_PER_BLOCK, stream, pointers, rows, cols);
    }

    private static void checkShape(int rows, int cols) {
        if (rows <= 0 || cols <= 0) {
            throw new IllegalArgumentException("matrix shape must be positive: [" + rows + ", " + cols + "]");
        }
    }

    private static void requireBytes(String what, DeviceSlice slice, DType type, long elements) {
        if (type != DType.F32 && type != DType.BF16) {
            throw new IllegalArgumentException(what + ": the CUDA kernels take F32 or BF16, not " + type);
        }
        long need = elements * type.byteSize();
        if (slice.byteSize() < need) {
            throw new IllegalArgumentException(what + " needs " + need + " bytes (" + elements + " x " + type
                    + "), the device slice has " + slice.byteSize());
        }
        if (slice.offset() % type.byteSize() != 0) {
            throw new IllegalArgumentException(what + " at offset " + slice.offset() + " is not aligned to "
                    + type + " (" + type.byteSize() + " bytes)");
        }
    }

    public boolean isClosed() {
        return module.isClosed();
    }

    @Override
    public void close() {
        module.close();
    }

    @Override
    public String toString() {
        return "expert kernels (" + module + ")";
    }
}
