package io.strata.kernels.cpu;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.strata.core.model.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/**
 * The native twins of {@code io.strata.kernels.quant.KQuantInt8}'s int8-activation K-quant kernels
 * ({@code kernels/src/main/c/strata_kq8.c}: AVX-512 BW + VNNI integer dot products), bound through FFM. Why a
 * class of its own: the float quantised kernels ({@link NativeQuant}) and these are separate arithmetics that
 * change independently. Public because its caller lives in another package. The caller quantises x (Q8_K blocks
 * in a heap byte array); y goes through a per-thread {@link NativeKernels.Segs} (no allocation per call). Runs when
 * {@link NativeKernels#enabled} and the symbols were found; a C kernel answers -1 (nothing done) on a CPU without
 * AVX-512 VNNI, and the caller runs Java: the same bits.
 */
@SuppressWarnings("restricted") // native downcalls: the JVM runs with --enable-native-access
public final class NativeKQuantInt8 {
    /** Why these kernels cannot run here; null when they can. */
    static final String UNAVAILABLE;

    /** rows and batch handles for Q4_K, Q5_K, Q6_K (index {@link #index}). */
    private static final MethodHandle[] ROWS = new MethodHandle[3];
    private static final MethodHandle[] BATCH = new MethodHandle[3];

    /** Set when a kernel answered -1 (this CPU lacks AVX-512 VNNI): no further downcalls. */
    private static volatile boolean cpuLacks;

    private static final ThreadLocal<NativeKernels.Segs> SEGS = ThreadLocal.withInitial(NativeKernels.Segs::new);

    static {
        String why = NativeKernels.UNAVAILABLE;
        if (why == null) {
            try {
                SymbolLookup lookup = SymbolLookup.libraryLookup(NativeKernels.LIBRARY, Arena.global());
                // (w, rowBytes, nb, xq, y, yOff, from, to)
                FunctionDescriptor rows = FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS,
                        ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT);
                // (w, rowBytes, nb, xq, xqStride, count, y, yOff, yStride, from, to)
                FunctionDescriptor batch = FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS,
                        JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);
                Linker linker = Linker.nativeLinker();
                MemorySegment ok = lookup.find("strata_kq8_cpu_ok").orElseThrow(() -> new IllegalStateException(
                        NativeKernels.LIBRARY + ": no symbol strata_kq8_cpu_ok (stale build?)"));
                if ((int) Linker.nativeLinker().downcallHandle(ok, FunctionDescriptor.of(JAVA_INT)).invokeExact() == 0) {
                    throw new IllegalStateException("this CPU lacks AVX-512 VNNI (or VBMI), which the int8 kernels need");
                }
                String[] names = {"q4_k", "q5_k", "q6_k"};
                for (int i = 0; i < 3; i++) {
                    ROWS[i] = linker.downcallHandle(find(lookup, "strata_kq8_" + names[i] + "_rows"), rows,
                            Linker.Option.critical(true));
                    BATCH[i] = linker.downcallHandle(find(lookup, "strata_kq8_" + names[i] + "_batch"), batch,
                            Linker.Option.critical(true));
                }
            } catch (Throwable e) {
                why = e.getMessage();
            }
        }
        UNAVAILABLE = why;
    }

    private NativeKQuantInt8() {
    }

    private static MemorySegment find(SymbolLookup lookup, String name) {
        return lookup.find(name).orElseThrow(() -> new IllegalStateException(
                NativeKernels.LIBRARY + ": no symbol " + name + " (stale build?)"));
    }

    /** Whether these kernels may run now (native kernels selected, the library has them, the CPU runs them). */
    public static boolean enabled() {
        return NativeKernels.enabled && UNAVAILABLE == null && !cpuLacks;
    }

    /** Why they are unavailable, or null. */
    public static String unavailable() {
        return UNAVAILABLE;
    }

    private static int index(DType t) {
        return switch (t) {
            case Q4_K -> 0;
            case Q5_K -> 1;
            case Q6_K -> 2;
            default -> -1;
        };
    }

    /**
     * {@code y[yOff + r] = row r . x} for r in [from, to), x given as nb Q8_K blocks at byte 0 of {@code xq}; false
     * (nothing done) when not enabled, t has no kernel, or the CPU lacks AVX-512 VNNI.
     */
    public static boolean rows(DType t, MemorySegment w, long rowBytes, int nb, MemorySegment xq, float[] y,
                               int yOff, int from, int to) {
        int k = index(t);
        if (k < 0 || !enabled()) {
            return false;
        }
        if (from == to) {
            return true;
        }
        NativeKernels.Segs g = SEGS.get();
        int n = to - from;
        MemorySegment ys = g.out(y);
        MemorySegment yt = ys != null ? ys : g.staged(2, n);
        int yo = ys != null ? yOff : -from;
        int rc;
        try {
            rc = (int) ROWS[k].invokeExact(w, rowBytes, nb, xq, yt, yo, from, to);
        } catch (Throwable e) {
            throw rethrow(e);
        }
        if (rc != 0) {
            cpuLacks = true;
            return false;
        }
        if (ys == null) {
            g.copyOut(2, y, yOff + from, n);
        }
        return true;
    }

    /**
     * The batch form: input i is nb Q8_K blocks at byte {@code i * xqStride} of {@code xq}, its outputs
     * {@code y[yOff + i * yStride + r]}; false (nothing done) as for {@link #rows}.
     */
    public static boolean batch(DType t, MemorySegment w, long rowBytes, int nb, MemorySegment xq, long xqStride,
                                int count, float[] y, int yOff, int yStride, int from, int to) {
        int k = index(t);
        if (k < 0 || !enabled()) {
            return false;
        }
        if (from == to || count == 0) {
            return true;
        }
        NativeKernels.Segs g = SEGS.get();
        MemorySegment ys = g.out(y); // y's own segment once it has been seen before, else a staging buffer
        int n = to - from;
        // staged: only rows [from, to) of each input, packed (stride n), copied out row range by row range; the
        // rows between belong to other threads' ranges of the same batch, which a copy-out must not touch
        MemorySegment yt = ys != null ? ys : g.staged(2, n * count);
        int yo = ys != null ? yOff : -from;
        int yst = ys != null ? yStride : n;
        int rc;
        try {
            rc = (int) BATCH[k].invokeExact(w, rowBytes, nb, xq, xqStride, count, yt, yo, yst, from, to);
        } catch (Throwable e) {
            throw rethrow(e);
        }
        if (rc != 0) {
            cpuLacks = true;
            return false;
        }
        if (ys == null) {
            for (int i = 0; i < count; i++) {
                MemorySegment.copy(yt, JAVA_FLOAT, (long) i * n * Float.BYTES, y, yOff + i * yStride + from, n);
            }
        }
        return true;
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new IllegalStateException(t);
    }
}
