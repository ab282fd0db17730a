package io.strata.kernels.cpu;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.ByteOrder;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import jdk.incubator.vector.FloatVector;

/**
 * The native twins of {@link VectorMatVec}'s row kernels ({@code kernels/src/main/c/strata_kernels.c}, built by
 * the module's build into {@code libstrata_kernels.so}), bound through FFM. Why: a core streams weights about
 * twice as fast as C2's Vector API code consumes them, so decode ran at a third of the memory bound; gcc's
 * AVX-512 code keeps up. The C does per row exactly the float operations of the Java kernel for Java's lane count
 * (16), so which of the two runs changes no bit, and {@link VectorMatVec} calls these at the entry of its row
 * loops whenever {@link #enabled} (the choice is {@link CpuKernels}'s). Where the library is missing (no gcc at
 * build time, another platform), the CPU lacks AVX-512, or Java's vectors have another lane count,
 * {@link #UNAVAILABLE} says why and the Java kernels run.
 *
 * <p>The downcalls are {@linkplain Linker.Option#critical(boolean) critical} with heap access: x, y and the x halves
 * are heap float arrays passed as they are (the JVM pins nothing and copies nothing; the calls are short and
 * never call back), and each call covers a whole row range, so its fixed cost (tens of ns) is spread over
 * thousands of weight bytes. Heap segments of the per-thread arrays are cached by the caller ({@link Segs}),
 * so a call allocates nothing.
 *
 * <p>Adding a kernel: write the C function (exported, {@code AVX512}-attributed) next to the others, declare its
 * handle below with {@link #bind}, and give it a static wrapper that invokes it exactly; tests compare it with
 * the Java kernel bit for bit and skip (an assumption naming {@link #UNAVAILABLE}) where it is unavailable.
 */
@SuppressWarnings("restricted") // native downcalls: the JVM runs with --enable-native-access
final class NativeKernels {
    /** The library's exported signatures this binding was written for (strata_kernels_abi()). */
    static final int ABI = 1;
    /** Where the build puts the library on the class path. */
    static final String RESOURCE = "/native/linux-x86_64/libstrata_kernels.so";

    private static final System.Logger LOG = System.getLogger(NativeKernels.class.getName());
    private static final Linker LINKER = Linker.nativeLinker();
    private static final Linker.Option CRITICAL = Linker.Option.critical(true);

    /** Why the native kernels cannot run here; null when they can. */
    static final String UNAVAILABLE;
    /** Where the library was loaded from (null when unavailable). */
    static final Path LIBRARY;

    static final MethodHandle F32_ROWS;
    static final MethodHandle F32_GATE_UP;
    static final MethodHandle BF16_ROWS;
    static final MethodHandle BF16_GATE_UP;
    static final MethodHandle F16_ROWS;
    static final MethodHandle F16_GATE_UP;
    static final MethodHandle F32_BATCH;
    static final MethodHandle BF16_BATCH;
    static final MethodHandle F16_BATCH;

    /** Whether {@link VectorMatVec} calls the native kernels now; set through {@link CpuKernels#use}. */
    static volatile boolean enabled;

    private static SymbolLookup lookup;

    static {
        String why = null;
        Path lib = null;
        try {
            why = platformProblem();
            if (why == null) {
                lib = locate();
                if (lib == null) {
                    why = "libstrata_kernels.so is not on the class path (not built: no gcc when the kernels module"
                            + " was compiled?)";
                }
            }
            if (why == null) {
                lookup = SymbolLookup.libraryLookup(lib, Arena.global());
                int abi = (int) bind("strata_kernels_abi", FunctionDescriptor.of(JAVA_INT), false).invokeExact();
                int lanes = (int) bind("strata_kernels_lanes", FunctionDescriptor.of(JAVA_INT), false).invokeExact();
                int cpu = (int) bind("strata_kernels_supported", FunctionDescriptor.of(JAVA_INT), false)
                        .invokeExact();
                int javaLanes = FloatVector.SPECIES_PREFERRED.length();
                if (abi != ABI) {
                    why = lib + " has ABI " + abi + ", this code needs " + ABI + " (stale build?)";
                } else if (cpu == 0) {
                    why = "this CPU lacks AVX-512 (F, BW, VL, DQ) with FMA and F16C";
                } else if (lanes != javaLanes) {
                    why = "Java's preferred float vector has " + javaLanes + " lanes; the native kernels reproduce"
                            + " the " + lanes + "-lane Java kernels only";
                }
            }
        } catch (Throwable t) {
            why = "cannot load " + (lib != null ? lib : RESOURCE) + ": " + t;
        }
        UNAVAILABLE = why;
        LIBRARY = why == null ? lib : null;
        boolean ok = why == null;
        // (weight, n, x, xOff, y, yOff, from, to) and the gate/up form with two weights and two outputs
        FunctionDescriptor f32Rows = FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS,
                JAVA_INT, JAVA_INT, JAVA_INT);
        FunctionDescriptor f32GateUp = FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT,
                ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT);
        // (weight, pairs, xEven, xOdd, xs, y, yOff, from, to) and the gate/up form
        FunctionDescriptor halfRows = FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT,
                ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT);
        FunctionDescriptor halfGateUp = FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS,
                JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT);
        // (weight, in or pairs, x, xOff, xStride, count, y, yOff, yStride, from, to) -> 0, or -1: nothing done
        FunctionDescriptor batch = FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT,
                JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);
        F32_ROWS = ok ? bind("strata_f32_rows", f32Rows, true) : null;
        F32_GATE_UP = ok ? bind("strata_f32_gateup", f32GateUp, true) : null;
        BF16_ROWS = ok ? bind("strata_bf16_rows", halfRows, true) : null;
        BF16_GATE_UP = ok ? bind("strata_bf16_gateup", halfGateUp, true) : null;
        F16_ROWS = ok ? bind("strata_f16_rows", halfRows, true) : null;
        F16_GATE_UP = ok ? bind("strata_f16_gateup", halfGateUp, true) : null;
        F32_BATCH = ok ? bind("strata_f32_batch", batch, true) : null;
        BF16_BATCH = ok ? bind("strata_bf16_batch", batch, true) : null;
        F16_BATCH = ok ? bind("strata_f16_batch", batch, true) : null;
        CpuKernels mode;
        try {
            mode = CpuKernels.configured();
        } catch (IllegalArgumentException e) {
            LOG.log(System.Logger.Level.WARNING, e.getMessage() + "; using auto");
            mode = null;
        }
        enabled = ok && mode != CpuKernels.JAVA;
        if (!ok && mode == CpuKernels.NATIVE) {
            LOG.log(System.Logger.Level.WARNING, "strata.kernels=native, but " + why + "; using the Java kernels");
        }
    }

    private NativeKernels() {
    }

    static boolean available() {
        return UNAVAILABLE == null;
    }

    /**
     * A downcall to one of the library's functions (the library loaded: {@link #UNAVAILABLE} is null); the
     * kernels are critical calls with heap access. For this class and the quantised kernels' bindings.
     */
    static MethodHandle bind(String name, FunctionDescriptor fd, boolean critical) {
        MemorySegment fn = lookup.find(name).orElseThrow(() -> new IllegalStateException(
                LIBRARY + ": no symbol " + name + " (stale build?)"));
        return critical ? LINKER.downcallHandle(fn, fd, CRITICAL) : LINKER.downcallHandle(fn, fd);
    }

    /**
     * Throws, saying {@code needs}, unless the library's {@code int probe(void)} answers 1: whether this CPU runs
     * the kernels behind it (their C checks the CPU itself and would answer every call with -1).
     */
    static void requireCpu(String probe, String needs) {
        int ok;
        try {
            ok = (int) bind(probe, FunctionDescriptor.of(JAVA_INT), false).invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (ok == 0) {
            throw new IllegalStateException("this CPU lacks " + needs + ", which these native kernels need");
        }
    }

    private static String platformProblem() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "");
        if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            return "no native kernels for " + os + "/" + arch;
        }
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            return "big-endian platform";
        }
        return null;
    }

    /**
     * The library as a file: straight from a classes directory (the build, tests), else copied out of the jar
     * into the temporary directory under a name carrying its digest, so runs share one copy and a new build
     * never overwrites a file another process has mapped.
     */
    private static Path locate() throws IOException, URISyntaxException, NoSuchAlgorithmException {
        URL url = NativeKernels.class.getResource(RESOURCE);
        if (url == null) {
            return null;
        }
        if (url.getProtocol().equals("file")) {
            return Path.of(url.toURI());
        }
        byte[] bytes;
        try (InputStream in = url.openStream()) {
            bytes = in.readAllBytes();
        }
        String digest = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes), 0, 8);
        Path dir = Path.of(System.getProperty("java.io.tmpdir"), "strata-native-" + System.getProperty("user.name"));
        Files.createDirectories(dir);
        Path lib = dir.resolve("libstrata_kernels-" + digest + ".so");
        if (!Files.isRegularFile(lib) || Files.size(lib) != bytes.length) {
            Path tmp = Files.createTempFile(dir, "libstrata_kernels", ".tmp");
            Files.write(tmp, bytes);
            try {
                Files.move(tmp, lib, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, lib, StandardCopyOption.REPLACE_EXISTING);
            }
        }
        return lib;
    }

    /**
     * Heap segments of the float arrays handed to the native kernels, per thread: {@code MemorySegment.ofArray}
     * allocates, and escape analysis does not remove it across a downcall. An array seen for the first time (a
     * step's fresh output, say) is only remembered, on probation, and staged through a buffer of this thread
     * (input copied in, output copied out: a copy of one vector against a matvec over a whole matrix); seen again,
     * it gets its segment among the hot entries, where a clock (second-chance) policy evicts what has not been
     * used lately. So arrays made fresh every step never evict the ones a step reuses, and a steady decode
     * allocates nothing. Holds references to at most {@value #HOT} + {@value #PROBATION} arrays per thread.
     */
    static final class Segs {
        private static final int HOT = 32;
        private static final int PROBATION = 8;
        private final float[][] arrays = new float[HOT][];
        private final MemorySegment[] segs = new MemorySegment[HOT];
        private final boolean[] used = new boolean[HOT];
        private int hand;
        private final float[][] probation = new float[PROBATION][];
        private int nextProbation;
        private final float[][] stage = {new float[0], new float[0], new float[0], new float[0]};
        private final MemorySegment[] stageSeg = new MemorySegment[4];
        /** The index in the segment {@link #in} returned of the array element asked for. */
        private int base;

        /** a's segment if a was seen before (made on the second sight), else null (remembering a). */
        private MemorySegment seen(float[] a) {
            for (int i = 0; i < HOT; i++) {
                if (arrays[i] == a) {
                    used[i] = true;
                    return segs[i];
                }
            }
            for (int i = 0; i < PROBATION; i++) {
                if (probation[i] == a) {
                    probation[i] = null;
                    while (used[hand]) {
                        used[hand] = false;
                        hand = (hand + 1) % HOT;
                    }
                    int v = hand;
                    hand = (hand + 1) % HOT;
                    arrays[v] = a;
                    segs[v] = MemorySegment.ofArray(a);
                    used[v] = true;
                    return segs[v];
                }
            }
            probation[nextProbation] = a;
            nextProbation = (nextProbation + 1) % PROBATION;
            return null;
        }

        private float[] stage(int slot, int n) {
            if (stage[slot].length < n) {
                stage[slot] = new float[Math.max(n, 2 * stage[slot].length)];
                stageSeg[slot] = MemorySegment.ofArray(stage[slot]);
            }
            return stage[slot];
        }

        /** A segment to read a[off, off + n) from, at index {@link #base} (slot 0 or 1 stages). */
        MemorySegment in(int slot, float[] a, int off, int n) {
            MemorySegment s = seen(a);
            if (s != null) {
                base = off;
                return s;
            }
            System.arraycopy(a, off, stage(slot, n), 0, n);
            base = 0;
            return stageSeg[slot];
        }

        /** The segments {@link #inHalves} returned. */
        private MemorySegment evens;
        private MemorySegment odds;

        /**
         * Segments to read xe[off, off + n) and xo[off, off + n) from, both at index {@link #base}: {@link #evens}
         * and {@link #odds} (slots 0 and 1). When one was staged and the other not, their indices differ, so
         * both are staged.
         */
        void inHalves(float[] xe, float[] xo, int off, int n) {
            MemorySegment e = in(0, xe, off, n);
            int eb = base;
            MemorySegment o = in(1, xo, off, n);
            if (eb != base) {
                System.arraycopy(xe, off, stage(0, n), 0, n);
                System.arraycopy(xo, off, stage(1, n), 0, n);
                e = stageSeg[0];
                o = stageSeg[1];
                base = 0;
            }
            evens = e;
            odds = o;
        }

        /** a's segment, or null: then write to {@link #staged} (slot 2 or 3) and {@link #copyOut}. */
        MemorySegment out(float[] a) {
            return seen(a);
        }

        /**
         * a's segment, made for this call when a has none yet: for the batch kernels, whose calls are long enough
         * to pay for the small allocation, and whose many per-layer arrays (each seen once a layer, more than
         * {@value #PROBATION} apart) would otherwise never leave probation.
         */
        MemorySegment any(float[] a) {
            MemorySegment s = seen(a);
            return s != null ? s : MemorySegment.ofArray(a);
        }

        MemorySegment staged(int slot, int n) {
            stage(slot, n);
            return stageSeg[slot];
        }

        void copyOut(int slot, float[] a, int at, int n) {
            System.arraycopy(stage[slot], 0, a, at, n);
        }
    }

    /** y[yOff + o] = row o of w . x[xOff ..], o in [from, to). */
    static void f32Rows(Segs g, MemorySegment w, int in, float[] x, int xOff, float[] y, int yOff, int from, int to) {
        MemorySegment xs = g.in(0, x, xOff, in);
        int xb = g.base;
        MemorySegment ys = g.out(y);
        try {
            if (ys != null) {
                F32_ROWS.invokeExact(w, in, xs, xb, ys, yOff, from, to);
            } else {
                F32_ROWS.invokeExact(w, in, xs, xb, g.staged(2, to - from), -from, from, to);
                g.copyOut(2, y, yOff + from, to - from);
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** gate[gOff + o] = row o of w1 . x, up[uOff + o] = row o of w3 . x (no SwiGLU). */
    static void f32GateUp(Segs g, MemorySegment w1, MemorySegment w3, int in, float[] x, int xOff, float[] gate,
                          int gOff, float[] up, int uOff, int from, int to) {
        MemorySegment xs = g.in(0, x, xOff, in);
        int xb = g.base;
        MemorySegment gs = g.out(gate);
        MemorySegment us = g.out(up);
        int n = to - from;
        try {
            // locals, not conditionals, as arguments: invokeExact would type a conditional as Object
            MemorySegment gt = gs != null ? gs : g.staged(2, n);
            MemorySegment ut = us != null ? us : g.staged(3, n);
            int go = gs != null ? gOff : -from;
            int uo = us != null ? uOff : -from;
            F32_GATE_UP.invokeExact(w1, w3, in, xs, xb, gt, go, ut, uo, from, to);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (gs == null) {
            g.copyOut(2, gate, gOff + from, n);
        }
        if (us == null) {
            g.copyOut(3, up, uOff + from, n);
        }
    }

    /** The 16-bit rows against x split into xe[xs ..] and xo[xs ..] (pairs each). */
    static void halfRows(Segs g, boolean bf, MemorySegment w, int pairs, float[] xe, float[] xo, int xs, float[] y,
                         int yOff, int from, int to) {
        g.inHalves(xe, xo, xs, pairs);
        MemorySegment es = g.evens;
        MemorySegment os = g.odds;
        int eb = g.base;
        MemorySegment ys = g.out(y);
        MemorySegment yt = ys != null ? ys : g.staged(2, to - from);
        int yo = ys != null ? yOff : -from;
        try {
            if (bf) {
                BF16_ROWS.invokeExact(w, pairs, es, os, eb, yt, yo, from, to);
            } else {
                F16_ROWS.invokeExact(w, pairs, es, os, eb, yt, yo, from, to);
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (ys == null) {
            g.copyOut(2, y, yOff + from, to - from);
        }
    }

    static void halfGateUp(Segs g, boolean bf, MemorySegment w1, MemorySegment w3, int pairs, float[] xe, float[] xo,
                           int xs, float[] gate, int gOff, float[] up, int uOff, int from, int to) {
        g.inHalves(xe, xo, xs, pairs);
        MemorySegment es = g.evens;
        MemorySegment os = g.odds;
        int eb = g.base;
        MemorySegment gs = g.out(gate);
        MemorySegment us = g.out(up);
        int n = to - from;
        try {
            MemorySegment gt = gs != null ? gs : g.staged(2, n);
            MemorySegment ut = us != null ? us : g.staged(3, n);
            int go = gs != null ? gOff : -from;
            int uo = us != null ? uOff : -from;
            if (bf) {
                BF16_GATE_UP.invokeExact(w1, w3, pairs, es, os, eb, gt, go, ut, uo, from, to);
            } else {
                F16_GATE_UP.invokeExact(w1, w3, pairs, es, os, eb, gt, go, ut, uo, from, to);
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (gs == null) {
            g.copyOut(2, gate, gOff + from, n);
        }
        if (us == null) {
            g.copyOut(3, up, uOff + from, n);
        }
    }

    /**
     * The batch kernel of a row-major weight of {@code kind} (1 F32, 2 BF16, 3 F16; {@code n} = columns for F32,
     * column pairs otherwise): y[yOff + t * yStride + o] = row o of w . x[xOff + t * xStride ..] for t in
     * [0, count), o in [from, to), each bit-identical to the row kernels. Returns false, having written nothing,
     * when the library had no buffer for x: the caller then runs its own code.
     */
    static boolean batch(Segs g, int kind, MemorySegment w, int n, float[] x, int xOff, int xStride, int count,
                         float[] y, int yOff, int yStride, int from, int to) {
        MemorySegment xs = g.any(x);
        MemorySegment ys = g.any(y);
        try {
            int rc = switch (kind) {
                case 1 -> (int) F32_BATCH.invokeExact(w, n, xs, xOff, xStride, count, ys, yOff, yStride, from, to);
                case 2 -> (int) BF16_BATCH.invokeExact(w, n, xs, xOff, xStride, count, ys, yOff, yStride, from, to);
                default -> (int) F16_BATCH.invokeExact(w, n, xs, xOff, xStride, count, ys, yOff, yStride, from, to);
            };
            return rc == 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** A downcall's throwable as an unchecked one (rethrown as it is when it already is one). */
    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new IllegalStateException(t);
    }
}
