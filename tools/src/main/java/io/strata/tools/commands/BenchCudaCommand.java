package io.strata.tools.commands;

import io.strata.core.model.DType;
import io.strata.core.util.Sizes;
import io.strata.nativeaccess.cuda.CudaDevice;
import io.strata.nativeaccess.cuda.CudaDriver;
import io.strata.nativeaccess.cuda.CudaEvent;
import io.strata.kernels.cuda.CudaKernels;
import io.strata.nativeaccess.cuda.CudaStream;
import io.strata.nativeaccess.cuda.DeviceBuffer;
import io.strata.nativeaccess.cuda.DeviceSlice;
import io.strata.nativeaccess.cuda.PinnedHostBuffer;
import io.strata.nativeaccess.cuda.RegisteredHostMemory;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code strata bench cuda}: what the CUDA device tier costs and gains on this machine. Exits 0 with the reason
 * when there is no usable GPU.
 */
@Command(name = "cuda",
        mixinStandardHelpOptions = true,
        header = "Benchmark the CUDA device tier: upload bandwidth, matvec, decode.",
        description = {
                "Benchmarks the CUDA device tier on GPU 0:",
                "  upload   host->device bandwidth from pinned memory (cuMemHostAlloc, async on a stream) and from",
                "           a registered plain buffer (cuMemHostRegister), against cuMemcpyHtoD of a plain",
                "           (pageable) buffer of the same size; median of --iterations copies each.",
                "  matvec   the expert matvec kernel on one [intermediate x hidden] weight, against a",
                "           single-threaded scalar Java matvec of the same weight.",
                "  decode   a top-k MoE FFN decode loop (swiglu + down projection per chosen expert, one token at",
                "           a time) with all experts resident in VRAM, against the same loop with every chosen",
                "           expert paged in from pinned host memory: overlapped (uploads of token t+1 on a copy",
                "           stream while token t computes, i.e. a perfect prefetch) and on demand (upload, then",
                "           compute). Every expert of every token is uploaded: the worst case, no VRAM cache hits.",
                "Without a GPU it prints why none was found and exits 0."})
public final class BenchCudaCommand implements Callable<Integer> {
    @Option(names = "--size", defaultValue = "256MiB", description = "Bytes per upload (default: ${DEFAULT-VALUE}).")
    String size;

    @Option(names = "--iterations", defaultValue = "10", description = "Timed repetitions (default: ${DEFAULT-VALUE}).")
    int iterations;

    @Option(names = "--hidden", defaultValue = "4096", description = "Model hidden size (default: ${DEFAULT-VALUE}).")
    int hidden;

    @Option(names = "--intermediate", defaultValue = "14336",
            description = "Expert intermediate size (default: ${DEFAULT-VALUE}, Mixtral 8x7B).")
    int intermediate;

    @Option(names = "--dtype", defaultValue = "BF16", description = "Weight type, F32 or BF16 (default: ${DEFAULT-VALUE}).")
    DType dtype;

    @Option(names = "--experts", defaultValue = "8", description = "Experts in the layer (default: ${DEFAULT-VALUE}).")
    int experts;

    @Option(names = "--top-k", defaultValue = "2", description = "Experts per token (default: ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--tokens", defaultValue = "32", description = "Decode steps per variant (default: ${DEFAULT-VALUE}).")
    int tokens;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        validate();
        CudaDriver.Availability availability = CudaDriver.availability();
        if (!availability.isPresent()) {
            out.println("No GPU found: " + availability.reason());
            out.println("Nothing to benchmark: the device tier runs on the simulated device here.");
            out.flush();
            return 0;
        }
        CudaDriver driver = availability.driver().orElseThrow();
        try (CudaDevice device = CudaDevice.open(driver, 0)) {
            CudaDriver.MemInfo mem = device.memInfo();
            long reserve = device.defaultReserveBytes();
            out.printf(Locale.ROOT, "device: %s, compute %s, driver %s; %s total, %s free, tier budget %s (reserve %s)%n",
                    device.name(), device.computeCapability(), driver.driverVersionString(),
                    Sizes.format(mem.totalBytes()), Sizes.format(mem.freeBytes()),
                    Sizes.format(device.budgetBytes(reserve)), Sizes.format(reserve));
            out.flush();
            upload(device, out);
            try (CudaKernels kernels = CudaKernels.load(device)) {
                matvec(device, kernels, out);
                decode(device, kernels, out);
            }
        }
        out.flush();
        return 0;
    }

    private void validate() {
        if (dtype != DType.F32 && dtype != DType.BF16) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--dtype must be F32 or BF16, not " + dtype);
        }
        if (iterations < 1 || tokens < 1 || hidden < 1 || intermediate < 1 || topK < 1 || experts < topK) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--iterations, --tokens, --hidden, --intermediate, --top-k must be >= 1 and --experts >= --top-k");
        }
    }

    // ------------------------------------------------------------------------------------------------ upload

    private void upload(CudaDevice device, PrintWriter out) {
        long bytes = Sizes.parse(size);
        double pinned;
        double pageable;
        double registered;
        try (PinnedHostBuffer pinnedBuffer = device.allocatePinned(bytes);
             DeviceBuffer dst = device.allocate(bytes);
             CudaStream stream = device.createStream();
             Arena arena = Arena.ofShared()) {
            MemorySegment plain = arena.allocate(bytes, 4096);
            plain.fill((byte) 1); // touch every page, so the pageable copy does not also pay first-touch faults
            pinnedBuffer.segment().fill((byte) 1);
            pinned = gbPerSecond(bytes, () -> {
                dst.copyFromAsync(0, pinnedBuffer.segment(), stream);
                stream.synchronize();
            });
            pageable = gbPerSecond(bytes, () -> dst.copyFrom(0, plain));
            try (RegisteredHostMemory reg = device.register(plain)) {
                registered = gbPerSecond(bytes, () -> {
                    dst.copyFromAsync(0, reg.segment(), stream);
                    stream.synchronize();
                });
            }
        }
        out.printf(Locale.ROOT, "upload %s x %d (median): pinned %.2f GB/s | registered %.2f GB/s | "
                        + "pageable cuMemcpyHtoD %.2f GB/s | pinned/pageable %.2fx%n",
                Sizes.format(bytes), iterations, pinned, registered, pageable, pinned / pageable);
        out.flush();
    }

    /** Median GB/s (1e9 bytes) of {@code iterations} runs after two warm-ups. */
    private double gbPerSecond(long bytes, Runnable copy) {
        copy.run();
        copy.run();
        long[] nanos = new long[iterations];
        for (int i = 0; i < iterations; i++) {
            long t0 = System.nanoTime();
            copy.run();
            nanos[i] = System.nanoTime() - t0;
        }
        Arrays.sort(nanos);
        return bytes / (double) nanos[iterations / 2];
    }

    // ------------------------------------------------------------------------------------------------ matvec

    private void matvec(CudaDevice device, CudaKernels kernels, PrintWriter out) {
        long wBytes = (long) intermediate * hidden * dtype.byteSize();
        float gpuMs;
        double cpuMs;
        try (PinnedHostBuffer host = device.allocatePinned(wBytes);
             DeviceBuffer w = device.allocate(wBytes);
             DeviceBuffer x = device.allocate(hidden * 4L);
             DeviceBuffer y = device.allocate(intermediate * 4L);
             CudaStream stream = device.createStream();
             CudaEvent start = device.createEvent(true);
             CudaEvent end = device.createEvent(true)) {
            fillWeights(host.segment());
            w.copyFrom(0, host.segment());
            x.fill((byte) 0x3c);
            kernels.matvec(dtype, w.whole(), x.whole(), y.whole(), intermediate, hidden, stream); // warm-up (JIT)
            stream.synchronize();
            start.record(stream);
            for (int i = 0; i < iterations; i++) {
                kernels.matvec(dtype, w.whole(), x.whole(), y.whole(), intermediate, hidden, stream);
            }
            end.record(stream);
            end.synchronize();
            gpuMs = end.elapsedMillisSince(start) / iterations;
            cpuMs = cpuMatvecMillis(host.segment());
        }
        out.printf(Locale.ROOT, "matvec %s [%d x %d]: GPU %.3f ms (%.0f GB/s of weights) | CPU scalar 1 thread %.1f ms"
                        + " | GPU/CPU speed-up %.0fx%n",
                dtype, intermediate, hidden, gpuMs, wBytes / (gpuMs * 1e6), cpuMs, cpuMs / gpuMs);
        out.flush();
    }

    /** Weights of a constant, harmless value (0x3c3c...: about 0.0115 in both F32 and BF16). */
    private static void fillWeights(MemorySegment segment) {
        segment.fill((byte) 0x3c);
    }

    /** The baseline: a plain scalar matvec over the same host weights, median of three runs. */
    private double cpuMatvecMillis(MemorySegment w) {
        float[] x = new float[hidden];
        Arrays.fill(x, 0.5f);
        float[] y = new float[intermediate];
        long[] nanos = new long[3];
        for (int run = 0; run < nanos.length; run++) {
            long t0 = System.nanoTime();
            for (int r = 0; r < intermediate; r++) {
                float s = 0;
                long base = (long) r * hidden;
                for (int c = 0; c < hidden; c++) {
                    float wv = dtype == DType.F32
                            ? w.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, base + c)
                            : Float.intBitsToFloat((w.getAtIndex(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED,
                            base + c) & 0xffff) << 16);
                    s += wv * x[c];
                }
                y[r] = s;
            }
            nanos[run] = System.nanoTime() - t0;
        }
        Arrays.sort(nanos);
        if (Float.isNaN(y[0])) {
            throw new IllegalStateException("CPU matvec produced NaN");
        }
        return nanos[1] / 1e6;
    }

    // ------------------------------------------------------------------------------------------------ decode

    private void decode(CudaDevice device, CudaKernels kernels, PrintWriter out) {
        long proj = (long) intermediate * hidden * dtype.byteSize();
        long expertBytes = 3 * proj;
        int[][] choices = choices();
        double resident;
        double overlapped;
        double onDemand;
        try (PinnedHostBuffer host = device.allocatePinned(experts * expertBytes);
             DeviceBuffer x = device.allocate(hidden * 4L);
             DeviceBuffer h = device.allocate(intermediate * 4L);
             DeviceBuffer y = device.allocate(topK * hidden * 4L);
             CudaStream copy = device.createStream();
             CudaStream compute = device.createStream()) {
            fillWeights(host.segment());
            x.fill((byte) 0x3c);
            Ffn ffn = new Ffn(kernels, x, h, y, proj, compute);
            try (DeviceBuffer all = device.allocate(experts * expertBytes)) {
                all.copyFrom(0, host.segment());
                resident = tokensPerSecond(choices, t -> {
                    for (int k = 0; k < topK; k++) {
                        ffn.run(all, choices[t][k] * expertBytes, k);
                    }
                    compute.synchronize();
                });
            }
            try (DeviceBuffer slots = device.allocate(2L * topK * expertBytes);
                 CudaEvent uploaded0 = device.createEvent(false);
                 CudaEvent uploaded1 = device.createEvent(false);
                 CudaEvent consumed0 = device.createEvent(false);
                 CudaEvent consumed1 = device.createEvent(false)) {
                CudaEvent[] uploaded = {uploaded0, uploaded1};
                CudaEvent[] consumed = {consumed0, consumed1};
                Uploader uploader = new Uploader(host, slots, expertBytes);
                onDemand = tokensPerSecond(choices, t -> {
                    uploader.upload(0, choices[t], compute);
                    for (int k = 0; k < topK; k++) {
                        ffn.run(slots, (long) k * expertBytes, k);
                    }
                    compute.synchronize();
                });
                // Double-buffered: token t computes from slot set t%2 while token t+1's experts fill the other.
                overlapped = tokensPerSecond(choices, t -> {
                    int set = t % 2;
                    int next = 1 - set;
                    if (t == 0) {
                        uploader.upload(set, choices[0], copy);
                        uploaded[set].record(copy);
                    }
                    if (t + 1 < choices.length) {
                        copy.waitFor(consumed[next]);
                        uploader.upload(next, choices[t + 1], copy);
                        uploaded[next].record(copy);
                    }
                    compute.waitFor(uploaded[set]);
                    for (int k = 0; k < topK; k++) {
                        ffn.run(slots, ((long) set * topK + k) * expertBytes, k);
                    }
                    consumed[set].record(compute);
                    compute.synchronize();
                });
                copy.synchronize();
            }
        }
        out.printf(Locale.ROOT, "decode %d experts %s (%s each), top-%d, %d tokens: resident %.1f tok/s | "
                        + "paged+overlapped %.1f tok/s (%.3fx resident) | paged on demand %.1f tok/s (%.3fx resident)%n",
                experts, dtype, Sizes.format(expertBytes), topK, tokens, resident, overlapped,
                overlapped / resident, onDemand, onDemand / resident);
        out.flush();
    }

    private int[][] choices() {
        Random random = new Random(42);
        int[][] c = new int[tokens][];
        for (int t = 0; t < tokens; t++) {
            c[t] = random.ints(0, experts).distinct().limit(topK).toArray();
        }
        return c;
    }

    private interface Step {
        void run(int token);
    }

    /** Tokens per second over all tokens, after one untimed warm-up pass over the first token. */
    private static double tokensPerSecond(int[][] choices, Step step) {
        step.run(0);
        long t0 = System.nanoTime();
        for (int t = 0; t < choices.length; t++) {
            step.run(t);
        }
        return choices.length / ((System.nanoTime() - t0) / 1e9);
    }

    /** One expert's FFN: h = silu(W1 x) * (W3 x), y_k = W2 h, with the expert at {@code offset} as w1|w3|w2. */
    private final class Ffn {
        private final CudaKernels kernels;
        private final DeviceBuffer x;
        private final DeviceBuffer h;
        private final DeviceBuffer y;
        private final long proj;
        private final CudaStream stream;

        Ffn(CudaKernels kernels, DeviceBuffer x, DeviceBuffer h, DeviceBuffer y, long proj, CudaStream stream) {
            this.kernels = kernels;
            this.x = x;
            this.h = h;
            this.y = y;
            this.proj = proj;
            this.stream = stream;
        }

        void run(DeviceBuffer weights, long offset, int k) {
            DeviceSlice w1 = weights.slice(offset, proj);
            DeviceSlice w3 = weights.slice(offset + proj, proj);
            DeviceSlice w2 = weights.slice(offset + 2 * proj, proj);
            kernels.swiglu(dtype, w1, w3, x.whole(), h.whole(), intermediate, hidden, stream);
            kernels.matvec(dtype, w2, h.whole(), y.slice((long) k * hidden * 4, hidden * 4L), hidden, intermediate,
                    stream);
        }
    }

    /** Queues uploads of a token's experts from pinned host memory into one set of device slots. */
    private final class Uploader {
        private final PinnedHostBuffer host;
        private final DeviceBuffer slots;
        private final long expertBytes;

        Uploader(PinnedHostBuffer host, DeviceBuffer slots, long expertBytes) {
            this.host = host;
            this.slots = slots;
            this.expertBytes = expertBytes;
        }

        void upload(int set, int[] chosen, CudaStream stream) {
            for (int k = 0; k < chosen.length; k++) {
                MemorySegment src = host.segment().asSlice(chosen[k] * expertBytes, expertBytes);
                slots.copyFromAsync(((long) set * topK + k) * expertBytes, src, stream);
            }
        }
    }
}
