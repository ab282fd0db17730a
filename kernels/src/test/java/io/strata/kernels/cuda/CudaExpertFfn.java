package io.strata.kernels.cuda;

import io.strata.nativeaccess.cuda.CudaDevice;
import io.strata.nativeaccess.cuda.CudaStream;
import io.strata.nativeaccess.cuda.DeviceBuffer;
import io.strata.nativeaccess.cuda.DeviceSlice;
import io.strata.nativeaccess.cuda.PinnedHostBuffer;
import io.strata.core.model.DType;
import io.strata.core.model.Layout;
import io.strata.core.model.ExpertProjection;
import io.strata.core.weights.ExpertWeights;
import io.strata.core.weights.TensorView;
import java.lang.foreign.MemorySegment;

/**
 * One expert's SwiGLU FFN for one token on the GPU, {@code y = W2 (silu(W1 x) * (W3 x))}, reading the weights
 * where they already are: the tensors' segments must be device-addressable (the CUDA device tier's managed
 * VRAM, or pinned host memory, which the GPU reads over the bus). Only the activations move: {@code x} up and
 * {@code y} down, through pinned buffers on this FFN's own compute stream. Not thread-safe: one per decode
 * thread.
 */
public final class CudaExpertFfn implements AutoCloseable {
    private final CudaDevice device;
    private final CudaKernels kernels;
    private final int hidden;
    private final int intermediate;
    private final CudaStream stream;
    private final PinnedHostBuffer xHost;
    private final PinnedHostBuffer yHost;
    private final DeviceBuffer x;
    private final DeviceBuffer h;
    private final DeviceBuffer y;

    public CudaExpertFfn(CudaDevice device, CudaKernels kernels, int hidden, int intermediate) {
        if (hidden <= 0 || intermediate <= 0) {
            throw new IllegalArgumentException("sizes must be positive: hidden " + hidden + ", intermediate "
                    + intermediate);
        }
        this.device = device;
        this.kernels = kernels;
        this.hidden = hidden;
        this.intermediate = intermediate;
        this.stream = device.createStream();
        this.xHost = device.allocatePinned(hidden * 4L);
        this.yHost = device.allocatePinned(hidden * 4L);
        this.x = device.allocate(hidden * 4L);
        this.h = device.allocate(intermediate * 4L);
        this.y = device.allocate(hidden * 4L);
    }

    /** Computes the expert's output for {@code in} ({@code hidden} F32) into {@code out} ({@code hidden} F32). */
    public void forward(ExpertWeights expert, MemorySegment in, MemorySegment out) {
        long vectorBytes = hidden * 4L;
        if (in.byteSize() != vectorBytes || out.byteSize() != vectorBytes) {
            throw new IllegalArgumentException("expert " + expert.id() + ": activations must be " + hidden
                    + " F32 values, got " + in.byteSize() + " and " + out.byteSize() + " bytes");
        }
        TensorView w1 = expert.tensor(ExpertProjection.GATE);
        TensorView w3 = expert.tensor(ExpertProjection.UP);
        TensorView w2 = expert.tensor(ExpertProjection.DOWN);
        DType type = w1.dtype();
        check(expert, w1, type, intermediate, hidden);
        check(expert, w3, type, intermediate, hidden);
        check(expert, w2, type, hidden, intermediate);
        MemorySegment.copy(in, 0, xHost.segment(), 0, vectorBytes);
        x.copyFromAsync(0, xHost.segment(), stream);
        kernels.swiglu(type, onDevice(expert, w1), onDevice(expert, w3), x.whole(), h.whole(), intermediate, hidden,
                stream);
        kernels.matvec(type, onDevice(expert, w2), h.whole(), y.whole(), hidden, intermediate, stream);
        y.copyToAsync(0, yHost.segment(), stream);
        stream.synchronize();
        MemorySegment.copy(yHost.segment(), 0, out, 0, vectorBytes);
    }

    /** As {@link #forward(ExpertWeights, MemorySegment, MemorySegment)} on arrays. */
    public float[] forward(ExpertWeights expert, float[] in) {
        if (in.length != hidden) {
            throw new IllegalArgumentException("expert " + expert.id() + ": x has " + in.length + " values, not "
                    + hidden);
        }
        float[] result = new float[hidden];
        forward(expert, MemorySegment.ofArray(in), MemorySegment.ofArray(result));
        return result;
    }

    private static void check(ExpertWeights expert, TensorView t, DType type, long rows, long cols) {
        if (t.dtype() != type || (type != DType.F32 && type != DType.BF16)) {
            throw new IllegalArgumentException("expert " + expert.id() + " tensor " + t.name() + ": the CUDA FFN "
                    + "takes F32 or BF16 weights of one type, got " + t.dtype() + " (w1 is " + type + ")");
        }
        if (t.layout() != Layout.ROW || t.rows() != rows || t.cols() != cols) {
            throw new IllegalArgumentException("expert " + expert.id() + " tensor " + t.name() + ": expected a "
                    + "row-major [" + rows + ", " + cols + "] weight, got " + t);
        }
    }

    /** The tensor as a device slice; refuses memory the GPU cannot reach instead of faulting the context. */
    private DeviceSlice onDevice(ExpertWeights expert, TensorView t) {
        MemorySegment data = t.data();
        long pointer = device.driver().devicePointer(data.address()).orElseThrow(() -> new IllegalArgumentException(
                "expert " + expert.id() + " tensor " + t.name() + " is in memory the GPU cannot address (pageable "
                        + "host memory): run the device tier on the GPU (CudaDeviceMemory) or pin the host tier"));
        return DeviceSlice.external(pointer, data.byteSize());
    }

    @Override
    public void close() {
        y.close();
        h.close();
        x.close();
        yHost.close();
        xHost.close();
        stream.close();
    }
}
