package io.strata.kernels.cpu;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.Optional;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The CPU's peak multiply-add rate, the compute bound of a batched prompt, as the streaming-read bandwidth is the
 * bound of decode. A prompt of n tokens through a matrix of r x c weights is n r c multiply-adds whatever the
 * kernel does, so prefill tokens/s can never beat (multiply-adds per second / multiply-adds per token). Two
 * arithmetics, the two the batch kernels use: {@link Kind#FMA} (float multiply-adds: the float types, and the
 * quantised ones in float arithmetic) and {@link Kind#INT8} (u8 x s8 into int32: llama.cpp's int8 arithmetic, AVX-512
 * VNNI vpdpbusd, 4x the lanes of a float FMA). Measured by loops of independent multiply-adds on registers (no
 * memory traffic): {@code kernels/src/main/c/strata_peak.c}; FMA falls back to the same loop in the Vector API where
 * the native library is absent, INT8 has no Java form (the Vector API has no byte dot product), so it is then
 * unavailable. For benchmarks ({@code strata bench compute}), not for the decoder.
 */
@SuppressWarnings("restricted") // native downcalls: the JVM runs with --enable-native-access
public final class ComputePeak {
    /** The multiply-add instruction measured. */
    public enum Kind {
        /** Float fused multiply-add over the widest vector. */
        FMA,
        /** u8 x s8 products summed in fours into int32 lanes (AVX-512 VNNI). */
        INT8
    }

    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    private static final MethodHandle FMA_NATIVE;
    private static final MethodHandle INT8_NATIVE;
    private static final ThreadLocal<MemorySegment> SINK = ThreadLocal.withInitial(
            () -> Arena.ofAuto().allocate(JAVA_FLOAT));
    private static volatile float blackhole;

    static {
        MethodHandle fma = null;
        MethodHandle int8 = null;
        if (NativeKernels.available()) {
            FunctionDescriptor fd = FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, ADDRESS);
            fma = NativeKernels.bind("strata_peak_fma", fd, false);
            int8 = NativeKernels.bind("strata_peak_dpbusd", fd, false);
        }
        FMA_NATIVE = fma;
        INT8_NATIVE = int8;
    }

    private ComputePeak() {
    }

    /** Why {@code kind} cannot be measured here; empty when it can. */
    public static Optional<String> unavailable(Kind kind) {
        if (kind == Kind.FMA) {
            return Optional.empty();
        }
        if (INT8_NATIVE == null) {
            return Optional.of("native kernels unavailable: " + NativeKernels.UNAVAILABLE);
        }
        return call(INT8_NATIVE, 1) < 0 ? Optional.of("this CPU lacks AVX-512 VNNI") : Optional.empty();
    }

    /**
     * Runs {@code iterations} rounds of 12 independent multiply-adds of {@code kind} on this thread; returns the
     * multiply-adds done (scalar products).
     *
     * @throws IllegalStateException when {@code kind} is {@link #unavailable}
     */
    public static long run(Kind kind, long iterations) {
        if (iterations < 0) {
            throw new IllegalArgumentException("iterations < 0: " + iterations);
        }
        if (kind == Kind.INT8) {
            long done = INT8_NATIVE == null ? -1 : call(INT8_NATIVE, iterations);
            if (done < 0) {
                throw new IllegalStateException("int8 peak: " + unavailable(kind).orElse("unavailable"));
            }
            return done;
        }
        if (FMA_NATIVE != null) { // the machine's rate: the native loop wherever it runs, whichever kernels are in use
            long done = call(FMA_NATIVE, iterations);
            if (done >= 0) {
                return done;
            }
        }
        return javaFma(iterations);
    }

    private static long call(MethodHandle h, long iterations) {
        MemorySegment sink = SINK.get();
        try {
            long done = (long) h.invokeExact(iterations, sink);
            blackhole += sink.get(JAVA_FLOAT, 0);
            return done;
        } catch (Throwable t) {
            throw NativeKernels.rethrow(t);
        }
    }

    /** The same loop in the Vector API: C2 keeps the twelve accumulators in registers. */
    static long javaFma(long iterations) {
        FloatVector m = FloatVector.broadcast(FS, 0.999999f);
        FloatVector c = FloatVector.broadcast(FS, 1e-7f);
        FloatVector a0 = FloatVector.broadcast(FS, 0f);
        FloatVector a1 = FloatVector.broadcast(FS, 1e-3f);
        FloatVector a2 = FloatVector.broadcast(FS, 2e-3f);
        FloatVector a3 = FloatVector.broadcast(FS, 3e-3f);
        FloatVector a4 = FloatVector.broadcast(FS, 4e-3f);
        FloatVector a5 = FloatVector.broadcast(FS, 5e-3f);
        FloatVector a6 = FloatVector.broadcast(FS, 6e-3f);
        FloatVector a7 = FloatVector.broadcast(FS, 7e-3f);
        FloatVector a8 = FloatVector.broadcast(FS, 8e-3f);
        FloatVector a9 = FloatVector.broadcast(FS, 9e-3f);
        FloatVector a10 = FloatVector.broadcast(FS, 10e-3f);
        FloatVector a11 = FloatVector.broadcast(FS, 11e-3f);
        for (long n = 0; n < iterations; n++) {
            a0 = a0.fma(m, c);
            a1 = a1.fma(m, c);
            a2 = a2.fma(m, c);
            a3 = a3.fma(m, c);
            a4 = a4.fma(m, c);
            a5 = a5.fma(m, c);
            a6 = a6.fma(m, c);
            a7 = a7.fma(m, c);
            a8 = a8.fma(m, c);
            a9 = a9.fma(m, c);
            a10 = a10.fma(m, c);
            a11 = a11.fma(m, c);
        }
        blackhole += a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11)
                .reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
        return iterations * 12 * FS.length();
    }
}
