package io.strata.kernels.cpu;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.strata.core.model.DType;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * The native twins of {@code io.strata.kernels.quant.KQuantInt8}'s int8-activation K-quant kernels
 * ({@code kernels/src/main/c/strata_kq8.c}: AVX-512 BW + VNNI integer dot products), bound through FFM. Why a
 * class of its own: the float quantised kernels ({@link NativeQuant}) and these are separate arithmetics that
 * change independently. Public because its caller lives in another package. The caller quantises x (Q8_K blocks
 * in a heap byte array); y goes through a per-thread {@link NativeKernels.Segs} (no allocation per call). Runs when
 * {@link NativeKernels#enabled} and the symbols were found; a C kernel answers -1 (nothing done) on a CPU without
 * AVX-512 VNNI, and the caller runs Java: the same bits.
 *
 * <p>Where the CPU has AMX-INT8 (Intel Sapphire Rapids and later) a batch of at least {@link #TILES_MIN} inputs
 * runs the tile form instead ({@code strata_kq8_*_tiles}): the same integer products on the tile unit, the codes
 * scaled before the dot product, so each super-block is one integer sum. Its float order differs from the rows
 * kernel's, so a prompt's outputs agree with decode's to float rounding instead of bit for bit (each input's bits
 * still independent of the others, the batch size and the thread count). Why: the batch form costs about 16
 * vector instructions per 256 multiply-adds and held Q4_K_M prompt processing at 2.3-2.5x decode; the tile form ran
 * a prompt's Q4_K matvecs 3-5x faster. {@code -D}{@value #TILES_PROPERTY}{@code =false} keeps the batch form
 * (decode's bits), as does {@link #useTiles}.
 */
@SuppressWarnings("restricted") // native downcalls: the JVM runs with --enable-native-access
public final class NativeKQuantInt8 {
    /** Why these kernels cannot run here; null when they can. */
    static final String UNAVAILABLE;

    /** rows and batch handles for Q4_K, Q5_K, Q6_K (index {@link #index}). */
    private static final MethodHandle[] ROWS = new MethodHandle[3];
    private static final MethodHandle[] BATCH = new MethodHandle[3];

    /** System property: {@code false} keeps batches on the batch form where the tile form could run. */
    public static final String TILES_PROPERTY = "strata.kernels.tiles";

    /**
     * The fewest inputs a batch runs the tile form for. Why 6: the tile form unpacks and scales each weight block
     * once per call and computes 16 inputs at a time whatever the count, so below this the batch form is faster
     * (Q4_K 3584 x 1024 on an Intel Xeon: 0.35x at one input, 0.68x at four, 1.05x at six, 1.1-1.4x at eight).
     */
    public static final int TILES_MIN = 6;

    /** Why the tile form cannot run here; null when it can. */
    static final String TILES_UNAVAILABLE;

    private static final MethodHandle[] TILES = new MethodHandle[3];

    private static volatile boolean tilesOn;

    /** strata_kq8_vbmi_header(int on): set once the rows kernels are bound. */
    private static MethodHandle VBMI_HEADER;

    /** Set when a kernel answered -1 (this CPU lacks AVX-512 VNNI): no further downcalls. */
    private static volatile boolean cpuLacks;

    private static final ThreadLocal<NativeKernels.Segs> SEGS = ThreadLocal.withInitial(NativeKernels.Segs::new);

    /** The C names of Q4_K, Q5_K, Q6_K (index {@link #index}). */
    private static final String[] NAMES = {"q4_k", "q5_k", "q6_k"};
    /** (w, rowBytes, nb, xq, xqStride, count, y, yOff, yStride, from, to): the batch and tile forms. */
    private static final FunctionDescriptor BATCH_ARGS = FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT,
            ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);

    static {
        String why = NativeKernels.UNAVAILABLE;
        if (why == null) {
            try {
                NativeKernels.requireCpu("strata_kq8_cpu_ok", "AVX-512 VNNI");
                // (w, rowBytes, nb, xq, y, yOff, from, to)
                FunctionDescriptor rows = FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS,
                        ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT);
                for (int i = 0; i < 3; i++) {
                    ROWS[i] = NativeKernels.bind("strata_kq8_" + NAMES[i] + "_rows", rows, true);
                    BATCH[i] = NativeKernels.bind("strata_kq8_" + NAMES[i] + "_batch", BATCH_ARGS, true);
                }
                VBMI_HEADER = NativeKernels.bind("strata_kq8_vbmi_header", FunctionDescriptor.of(JAVA_INT, JAVA_INT),
                        false);
            } catch (RuntimeException e) {
                why = e.getMessage();
            }
        }
        UNAVAILABLE = why;
        String tilesWhy = why;
        if (tilesWhy == null) {
            try {
                NativeKernels.requireCpu("strata_kq8_tiles_ok", "AMX-INT8 (or the kernel did not grant it)");
                for (int i = 0; i < 3; i++) { // the batch form's arguments
                    TILES[i] = NativeKernels.bind("strata_kq8_" + NAMES[i] + "_tiles", BATCH_ARGS, true);
                }
            } catch (RuntimeException e) {
                tilesWhy = e.getMessage();
            }
        }
        TILES_UNAVAILABLE = tilesWhy;
        tilesOn = tilesWhy == null && !"false".equalsIgnoreCase(System.getProperty(TILES_PROPERTY, "true").trim());
    }

    private NativeKQuantInt8() {
    }

    /** Whether these kernels may run now (native kernels selected, the library has them, the CPU runs them). */
    public static boolean enabled() {
        return NativeKernels.enabled && UNAVAILABLE == null && !cpuLacks;
    }

    /** Why they are unavailable, or null. */
    public static String unavailable() {
        return UNAVAILABLE;
    }

    /** Whether batches of {@link #TILES_MIN} or more inputs run the tile form now. */
    public static boolean tiles() {
        return tilesOn && enabled();
    }

    /** Why the tile form cannot run here (no AMX-INT8, or the batch form itself cannot), or null. */
    public static String tilesUnavailable() {
        return TILES_UNAVAILABLE;
    }

    /**
     * Turns the tile form on (where it can run) or off for batches from now on; returns whether it was on. For a
     * caller that needs decode's bits from a prompt, and for tests.
     */
    public static boolean useTiles(boolean on) {
        boolean was = tilesOn;
        tilesOn = on && TILES_UNAVAILABLE == null;
        return was;
    }

    /**
     * Turns the rows kernels' VBMI form of the Q4_K/Q5_K block header on (where the CPU has AVX-512 VBMI: the
     * default) or off; returns whether it is now on. Both forms give the same bits; for the tests, which check each.
     */
    public static boolean useVbmiHeader(boolean on) {
        if (UNAVAILABLE != null) {
            return false;
        }
        try {
            return (int) VBMI_HEADER.invokeExact(on ? 1 : 0) == 1;
        } catch (Throwable e) {
            throw new IllegalStateException("strata_kq8_vbmi_header failed", e);
        }
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
            throw NativeKernels.rethrow(e);
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
     * {@code y[yOff + i * yStride + r]}; false (nothing done) as for {@link #rows}. The tile form when
     * {@link #tiles()} and {@code count >= }{@link #TILES_MIN}.
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
        MemorySegment ys = SEGS.get().any(y); // the kernel writes rows [from, to) of each input in place
        int rc;
        try {
            if (count >= TILES_MIN && tilesOn
                    && (int) TILES[k].invokeExact(w, rowBytes, nb, xq, xqStride, count, ys, yOff, yStride, from, to)
                    == 0) {
                return true; // else -1 (cannot run: not reached, TILES_UNAVAILABLE says so) or -2 (no scratch)
            }
            rc = (int) BATCH[k].invokeExact(w, rowBytes, nb, xq, xqStride, count, ys, yOff, yStride, from, to);
        } catch (Throwable e) {
            throw NativeKernels.rethrow(e);
        }
        if (rc != 0) {
            cpuLacks = true;
            return false;
        }
        return true;
    }
}
