package io.strata.bench;

import io.strata.core.model.DType;
import io.strata.core.model.Layout;
import io.strata.core.weights.TensorView;
import io.strata.kernels.cpu.CpuKernels;
import io.strata.kernels.cpu.FloatCodec;
import io.strata.kernels.cpu.MatVec;
import io.strata.kernels.quant.QuantMatVec;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.LongSupplier;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The matvec kernels alone, on one thread: GB/s of weights consumed by the Java and the native row kernels
 * ({@link CpuKernels}; float types and, through {@link QuantMatVec}, the quantised ones in both arithmetics,
 * float and int8, whose bytes are counted as stored) on a matrix far larger than the caches, against a streaming
 * read of the same bytes (the bound), interleaved round by round (read, java, native, java gate/up, native gate/up, ...) so a slow minute hits
 * all of them. Prints per-candidate median [min..max] and the per-round native/java ratio, with the load average,
 * by wall time and by the thread's CPU time (on a shared machine the latter says what a kernel does while it runs).
 * Run: {@code java --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp 'bench/target/lib/*'
 * io.strata.bench.MatVecBandwidth [DTYPE[,DTYPE..]] [MiB] [rounds] [seconds]}.
 */
public final class MatVecBandwidth {
    private static final VectorSpecies<Long> LS = LongVector.SPECIES_PREFERRED;
    private static long blackhole;
    private static final String CPU = " (cpu)";
    private static final java.lang.management.ThreadMXBean THREADS =
            java.lang.management.ManagementFactory.getThreadMXBean();

    private MatVecBandwidth() {
    }

    public static void main(String[] args) throws IOException {
        String[] types = (args.length > 0 ? args[0] : "BF16,F16,F32").split(",");
        long mib = args.length > 1 ? Long.parseLong(args[1]) : 128;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        double seconds = args.length > 3 ? Double.parseDouble(args[3]) : 1;
        System.out.printf(Locale.ROOT, "kernels: %s; load average %s%n", CpuKernels.describe(), load());
        boolean nat = CpuKernels.nativeUnavailable().isEmpty();
        for (String name : types) {
            DType t = DType.valueOf(name.trim());
            int cols = 4096;
            int rows = (int) ((mib << 20) / t.rowBytes(cols)) & ~1;
            boolean quant = t.isQuantized();
            try (Arena arena = Arena.ofConfined()) {
                TensorView w = random(arena, t, rows, cols, 1);
                TensorView w1 = quant ? null : random(arena, t, rows / 2, cols, 2);
                TensorView w3 = quant ? null : random(arena, t, rows / 2, cols, 3);
                float[] x = new float[cols];
                SplittableRandom rnd = new SplittableRandom(4);
                for (int i = 0; i < cols; i++) {
                    x[i] = (float) rnd.nextDouble(-1, 1);
                }
                float[] y = new float[rows];
                float[] g = new float[rows / 2];
                float[] u = new float[rows / 2];
                long bytes = w.data().byteSize();
                MatVec mv = quant ? QuantMatVec.INSTANCE : MatVec.vector();
                Map<String, LongSupplier> cs = new LinkedHashMap<>();
                cs.put("read", () -> read(w.data()));
                for (CpuKernels k : nat ? CpuKernels.values() : new CpuKernels[] {CpuKernels.JAVA}) {
                    String kn = k.name().toLowerCase(Locale.ROOT);
                    cs.put(kn, () -> {
                        CpuKernels.use(k);
                        mv.apply(w, x, y);
                        return bytes;
                    });
                    if (quant) { // no fused gate/up; the int8 arithmetic (llama.cpp's) besides the float one
                        cs.put(kn + " int8", () -> {
                            CpuKernels.use(k);
                            QuantMatVec.INT8.apply(w, x, y);
                            return bytes;
                        });
                        continue;
                    }
                    cs.put(kn + " gate/up", () -> {
                        CpuKernels.use(k);
                        mv.applyGateUp(w1, w3, x, 0, g, 0, u, 0, 0, rows / 2);
                        return bytes;
                    });
                }
                // a prefill-shaped batch: 32 inputs over an expert's gate (3584 x 1024; units: multiply-adds); BF16
                // batches run Java's bf16Quad under both settings, F16 and F32 the row kernels once per input
                int batch = 32;
                int brows = 3584;
                int bcols = 1024;
                TensorView wb = random(arena, t, brows, bcols, 5);
                float[] xb = new float[batch * bcols];
                for (int i = 0; i < xb.length; i++) {
                    xb[i] = (float) rnd.nextDouble(-1, 1);
                }
                float[] yb = new float[batch * brows];
                long macs = (long) batch * brows * bcols;
                for (CpuKernels k : nat ? CpuKernels.values() : new CpuKernels[] {CpuKernels.JAVA}) {
                    cs.put(k.name().toLowerCase(Locale.ROOT) + " batch", () -> {
                        CpuKernels.use(k);
                        mv.applyBatch(wb, xb, 0, bcols, batch, yb, 0, brows, 0, brows);
                        return macs;
                    });
                    if (quant) {
                        cs.put(k.name().toLowerCase(Locale.ROOT) + " int8 batch", () -> {
                            CpuKernels.use(k);
                            QuantMatVec.INT8.applyBatch(wb, xb, 0, bcols, batch, yb, 0, brows, 0, brows);
                            return macs;
                        });
                    }
                }
                Map<String, double[]> r = run(cs, rounds, (long) (seconds * 1e9));
                System.out.printf(Locale.ROOT, "%n%s %d x %d (%d MiB), 1 thread, %d rounds of >= %.1f s; load average"
                        + " %s%n", t, rows, cols, bytes >> 20, rounds, seconds, load());
                for (var e : r.entrySet()) {
                    if (e.getKey().endsWith(CPU)) {
                        continue;
                    }
                    if (e.getKey().endsWith(" batch")) {
                        System.out.printf(Locale.ROOT, "  %-17s %s G multiply-adds/s (32 inputs, 3584 x 1024)%n",
                                e.getKey(), spread(e.getValue(), 1e-9));
                        continue;
                    }
                    System.out.printf(Locale.ROOT, "  %-17s %s GB/s  of read %s%n", e.getKey(), spread(e.getValue(), 1e-9),
                            spread(ratio(e.getValue(), r.get("read")), 1));
                }
                // per second of this thread's CPU time: what the kernel does while it runs (the machine is shared)
                for (var e : r.entrySet()) {
                    if (e.getKey().endsWith(CPU) && !e.getKey().contains(" batch")) {
                        System.out.printf(Locale.ROOT, "  %-17s %s GB/CPU-s of read %s%n",
                                e.getKey().substring(0, e.getKey().length() - CPU.length()), spread(e.getValue(), 1e-9),
                                spread(ratio(e.getValue(), r.get("read" + CPU)), 1));
                    }
                }
                if (nat && quant) {
                    System.out.printf(Locale.ROOT, "  native/java      %s (int8 %s)%n",
                            spread(ratio(r.get("native"), r.get("java")), 1),
                            spread(ratio(r.get("native int8"), r.get("java int8")), 1));
                    System.out.printf(Locale.ROOT, "  native int8/float %s%n",
                            spread(ratio(r.get("native int8"), r.get("native")), 1));
                } else if (nat) {
                    System.out.printf(Locale.ROOT, "  native/java      %s (gate/up %s)%n",
                            spread(ratio(r.get("native"), r.get("java")), 1),
                            spread(ratio(r.get("native gate/up"), r.get("java gate/up")), 1));
                    System.out.printf(Locale.ROOT, "  native/java batch %s%n", spread(ratio(r.get("native batch"),
                            r.get("java batch")), 1));
                }
            }
        }
        System.out.printf(Locale.ROOT, "load average %s; blackhole %d%n", load(), blackhole & 1);
    }

    private static TensorView random(Arena arena, DType t, int rows, int cols, long seed) {
        if (t.isQuantized()) {
            return randomBlocks(arena, t, rows, cols, seed);
        }
        MemorySegment m = arena.allocate((long) rows * cols * t.byteSize(), 64);
        SplittableRandom rnd = new SplittableRandom(seed);
        for (long i = 0; i < (long) rows * cols; i++) {
            FloatCodec.set(m, t, i, (float) rnd.nextDouble(-1, 1));
        }
        return new TensorView("w", m, t, new long[] {rows, cols}, Layout.ROW);
    }

    /**
     * Random block bytes with small finite f16 scales (the kernels' speed does not depend on the values; random
     * bytes in a scale field would include infinities and NaNs). Types whose scale layout is not known here keep
     * their random bytes.
     */
    private static TensorView randomBlocks(Arena arena, DType t, int rows, int cols, long seed) {
        long n = rows * t.rowBytes(cols);
        MemorySegment m = arena.allocate(n, 64);
        SplittableRandom rnd = new SplittableRandom(seed);
        for (long o = 0; o + 8 <= n; o += 8) {
            m.set(ValueLayout.JAVA_LONG_UNALIGNED, o, rnd.nextLong());
        }
        int[] f16 = switch (t) {
            case Q8_0, Q4_0, Q5_0 -> new int[] {0};
            case Q4_1, Q5_1, Q4_K, Q5_K -> new int[] {0, 2};
            case Q2_K -> new int[] {80, 82};
            case Q3_K -> new int[] {108};
            case Q6_K -> new int[] {208};
            default -> new int[0];
        };
        for (long p = 0; p < n; p += t.blockBytes()) {
            for (int o : f16) {
                m.set(ValueLayout.JAVA_SHORT_UNALIGNED, p + o, Float.floatToFloat16((float) rnd.nextDouble(-0.05, 0.05)));
            }
        }
        return new TensorView("w", m, t, new long[] {rows, cols}, Layout.ROW);
    }

    private static long read(MemorySegment s) {
        LongVector acc = LongVector.zero(LS);
        long step = LS.vectorByteSize();
        long n = s.byteSize() - s.byteSize() % step;
        for (long o = 0; o < n; o += step) {
            acc = acc.add(LongVector.fromMemorySegment(LS, s, o, ByteOrder.LITTLE_ENDIAN));
        }
        blackhole ^= acc.reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
        return s.byteSize();
    }

    private static Map<String, double[]> run(Map<String, LongSupplier> cs, int rounds, long minNanos) {
        Map<String, double[]> out = new LinkedHashMap<>();
        cs.keySet().forEach(k -> out.put(k, new double[rounds]));
        for (int r = -1; r < rounds; r++) { // round -1: warm-up
            for (var e : cs.entrySet()) {
                long units = 0;
                long t0 = System.nanoTime();
                long c0 = THREADS.getCurrentThreadCpuTime();
                long el;
                do {
                    units += e.getValue().getAsLong();
                    el = System.nanoTime() - t0;
                } while (el < minNanos);
                long cpu = THREADS.getCurrentThreadCpuTime() - c0;
                if (r >= 0) {
                    out.get(e.getKey())[r] = units / (el / 1e9);
                    out.computeIfAbsent(e.getKey() + CPU, k -> new double[rounds])[r] = units / (cpu / 1e9);
                }
            }
        }
        return out;
    }

    private static double[] ratio(double[] a, double[] b) {
        double[] q = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            q[i] = a[i] / b[i];
        }
        return q;
    }

    private static String spread(double[] v, double scale) {
        double[] s = v.clone();
        Arrays.sort(s);
        double med = s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
        return String.format(Locale.ROOT, "%.2f [%.2f..%.2f]", med * scale, s[0] * scale, s[s.length - 1] * scale);
    }

    private static String load() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "?";
        }
    }
}
