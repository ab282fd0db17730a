package io.strata.kernels.cpu;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.strata.core.model.DType;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * The native twins of {@code io.strata.kernels.quant.LegacyInt8}'s kernels (legacy block types against an
 * activation vector quantised to 8 bits; {@code kernels/src/main/c/strata_lq8.c}, in the same
 * {@code libstrata_kernels.so} as {@link NativeKernels}'s), bound through FFM. Public because its caller lives in
 * another package; a class of its own so that it changes independently of the float kernels' bindings. The C
 * reads the quantised input Java wrote (off-heap) and gives the Java kernels' bits; it runs whenever
 * {@link NativeKernels#enabled} and its symbols were found, and the CPU has AVX-512 VNNI (else the C returns -1
 * and Java runs).
 *
 * <p>One downcall per call covers every input and row (critical, heap access: weights may be heap segments, y is
 * the caller's heap array through a per-thread {@link NativeKernels.Segs}), so nothing is allocated per call.
 */
@SuppressWarnings("restricted") // native downcalls: the JVM runs with --enable-native-access
public final class NativeLegacyInt8 {
    /** Why these native kernels cannot run here; null when they can. */
    static final String UNAVAILABLE;

    private static final MethodHandle Q8_0;
    private static final MethodHandle Q4_0;
    private static final MethodHandle Q5_0;
    private static final MethodHandle Q4_1;
    private static final MethodHandle Q5_1;

    private static final ThreadLocal<NativeKernels.Segs> SEGS = ThreadLocal.withInitial(NativeKernels.Segs::new);

    static {
        String why = NativeKernels.UNAVAILABLE;
        MethodHandle[] h = new MethodHandle[5];
        if (why == null) {
            try {
                NativeKernels.requireCpu("strata_lq8_cpu_ok", "AVX-512 VNNI and VBMI");
                // (w, rowBytes, nb, xq, xStride, count, y, yOff, yStride, from, to) -> 0, or -1 (no VNNI)
                FunctionDescriptor fd = FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS,
                        JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);
                String[] names = {"strata_lq8_q8_0", "strata_lq8_q4_0", "strata_lq8_q5_0", "strata_lq8_q4_1",
                    "strata_lq8_q5_1"};
                for (int i = 0; i < names.length; i++) {
                    h[i] = NativeKernels.bind(names[i], fd, true);
                }
            } catch (RuntimeException e) {
                why = e.getMessage();
            }
        }
        UNAVAILABLE = why;
        boolean ok = why == null;
        Q8_0 = ok ? h[0] : null;
        Q4_0 = ok ? h[1] : null;
        Q5_0 = ok ? h[2] : null;
        Q4_1 = ok ? h[3] : null;
        Q5_1 = ok ? h[4] : null;
    }

    private NativeLegacyInt8() {
    }

    /** Whether {@link #run} may run natively now (native kernels selected, and this library has them). */
    public static boolean enabled() {
        return NativeKernels.enabled && UNAVAILABLE == null;
    }

    /** Why these native kernels are unavailable, or null. */
    public static String unavailable() {
        return UNAVAILABLE;
    }

    private static MethodHandle handle(DType t) {
        return switch (t) {
            case Q8_0 -> Q8_0;
            case Q4_0 -> Q4_0;
            case Q5_0 -> Q5_0;
            case Q4_1 -> Q4_1;
            case Q5_1 -> Q5_1;
            default -> null;
        };
    }

    /**
     * {@code y[yOff + i * yStride + r] = row r . input i} for r in [from, to), i in [0, count), the inputs
     * quantised by {@code Q8Activations} at {@code xq + i * xStride}; arguments already checked by the caller.
     * False (nothing done) when t has no native kernel or it could not run, so the caller runs Java.
     */
    public static boolean run(DType t, MemorySegment w, long rowBytes, int nb, MemorySegment xq, long xStride,
                              int count, float[] y, int yOff, int yStride, int from, int to) {
        MethodHandle mh = handle(t);
        if (mh == null || !enabled()) {
            return false;
        }
        if (from == to || count == 0) {
            return true;
        }
        NativeKernels.Segs g = SEGS.get();
        // a batch writes rows [from, to) of each input in place (Segs.any, as every batch kernel); one input (a
        // decode step, allocation-free) goes through a staging buffer until y has a segment of its own
        MemorySegment ys = count > 1 ? g.any(y) : g.out(y);
        int n = to - from;
        MemorySegment yt = ys != null ? ys : g.staged(2, n);
        int yo = ys != null ? yOff : -from;
        int rc;
        try {
            rc = (int) mh.invokeExact(w, rowBytes, nb, xq, xStride, count, yt, yo, yStride, from, to);
        } catch (Throwable e) {
            throw NativeKernels.rethrow(e);
        }
        if (rc != 0) {
            return false;
        }
        if (ys == null) {
            g.copyOut(2, y, yOff + from, n);
        }
        return true;
    }

}
