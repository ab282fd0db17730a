package io.strata.kernels.cpu;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import io.strata.core.model.DType;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * The native twins of the single-vector quantised row kernels of {@code io.strata.kernels.quant.BlockDot}
 * ({@code kernels/src/main/c/strata_quant.c}, in the same {@code libstrata_kernels.so} as {@link NativeKernels}'s),
 * bound through FFM for {@code QuantMatVec.matvec}. Why: one core streams ~30 GB/s of weights, C2's Vector API
 * code for the byte widening and nibble unpacking consumed a third of that (Q8_0) down to an eighth (Q4_K). The C
 * does per row exactly the float operations of the Java kernel for 16 lanes, so which one runs changes no bit; it
 * runs whenever {@link NativeKernels#enabled} (one switch for all CPU kernels: {@link CpuKernels}) and this
 * class's symbols were found. Public because its caller lives in another package; a class of its own so that the
 * float kernels' binding and this one can change independently.
 *
 * <p>Heap arrays go through a per-thread {@link NativeKernels.Segs} (no allocation per call). The K-quants' sums
 * of x per group are computed by the C itself, in the Java order.
 */
@SuppressWarnings("restricted") // native downcalls: the JVM runs with --enable-native-access
public final class NativeQuant {
    /** Why the quantised native kernels cannot run here; null when they can. */
    static final String UNAVAILABLE;

    private static final MethodHandle Q8_0;
    private static final MethodHandle Q4_0;
    private static final MethodHandle Q4_K;
    private static final MethodHandle Q5_K;
    private static final MethodHandle Q6_K;

    private static final ThreadLocal<NativeKernels.Segs> SEGS = ThreadLocal.withInitial(NativeKernels.Segs::new);

    static {
        String why = NativeKernels.UNAVAILABLE;
        MethodHandle[] h = new MethodHandle[5];
        if (why == null) {
            try {
                // (weight, blocks per row, x, xOff, y, yOff, from, to) -> 0, or -1 (no memory for the group sums)
                FunctionDescriptor fd = FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT,
                        ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT);
                String[] names = {"strata_q8_0_rows", "strata_q4_0_rows", "strata_q4_k_rows", "strata_q5_k_rows",
                    "strata_q6_k_rows"};
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
        Q4_K = ok ? h[2] : null;
        Q5_K = ok ? h[3] : null;
        Q6_K = ok ? h[4] : null;
    }

    private NativeQuant() {
    }

    /** Whether {@link #rows} runs natively now (native kernels selected, and this library has them). */
    public static boolean enabled() {
        return NativeKernels.enabled && UNAVAILABLE == null;
    }

    /** Why the quantised native kernels are unavailable, or null. */
    public static String unavailable() {
        return UNAVAILABLE;
    }

    /** Whether {@code t} has a native row kernel. */
    public static boolean supports(DType t) {
        return handle(t) != null;
    }

    private static MethodHandle handle(DType t) {
        return switch (t) {
            case Q8_0 -> Q8_0;
            case Q4_0 -> Q4_0;
            case Q4_K -> Q4_K;
            case Q5_K -> Q5_K;
            case Q6_K -> Q6_K;
            default -> null;
        };
    }

    /**
     * {@code y[yOff + r] = row r . x[xOff ..]} for r in [from, to) of a {@code t} weight of {@code nb} blocks per
     * row starting at byte 0 of {@code w} (arguments already checked by the caller), natively; false (nothing
     * done) when {@code t} has no native kernel or the kernel could not run, so the caller runs Java.
     */
    public static boolean rows(DType t, MemorySegment w, int nb, float[] x, int xOff, float[] y, int yOff, int from,
                               int to) {
        MethodHandle mh = handle(t);
        if (mh == null || !enabled()) {
            return false;
        }
        if (from == to) {
            return true;
        }
        int cols = nb * t.blockSize();
        NativeKernels.Segs g = SEGS.get();
        MemorySegment xs = g.out(x); // x's own segment once it has been seen before, else stage it
        int xb = xOff;
        if (xs == null) {
            xs = g.staged(0, cols);
            MemorySegment.copy(x, xOff, xs, JAVA_FLOAT, 0, cols);
            xb = 0;
        }
        int n = to - from;
        MemorySegment ys = g.out(y);
        MemorySegment yt = ys != null ? ys : g.staged(2, n);
        int yo = ys != null ? yOff : -from;
        int rc;
        try {
            rc = (int) mh.invokeExact(w, nb, xs, xb, yt, yo, from, to);
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
