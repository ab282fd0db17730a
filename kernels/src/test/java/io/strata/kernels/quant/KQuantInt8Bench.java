package io.strata.kernels.quant;

import io.strata.core.model.DType;
import io.strata.kernels.cpu.CpuKernels;
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
import jdk.incubator.vector.VectorOperators;

/**
 * One-thread figures for {@link KQuantInt8} (not a test): GB/s of weight bytes consumed on a matrix far larger than
 * the caches by the float path (QuantMatVec.matvec, Java and native) and the int8 path (KQuantInt8.rows, Java and
 * native), against a streaming read of the same bytes, interleaved round by round; then per-token time of the batch
 * form (32 and 128 inputs) against single calls (decode) on a 64 MiB weight (twice the L3). Each also per second
 * of this thread's CPU time ("(cpu)" rows): on a shared machine that says what a kernel does while it runs. Median [min..max].
 * Run (after the kernels tests compiled): {@code java --add-modules=jdk.incubator.vector
 * --enable-native-access=ALL-UNNAMED -cp kernels/target/classes:kernels/target/test-classes:core/target/classes
 * io.strata.kernels.quant.KQuantInt8Bench [TYPES] [MiB] [rounds] [seconds]}.
 */
public final class KQuantInt8Bench {
    private static long blackhole;
    /** Suffix of a candidate's rates per second of this thread's CPU time (the machine is shared). */
    private static final String CPU = " (cpu)";

    private KQuantInt8Bench() {
    }

    public static void main(String[] args) throws Exception {
        String[] types = (args.length > 0 ? args[0] : "Q4_K,Q6_K,Q5_K").split(",");
        long mib = args.length > 1 ? Long.parseLong(args[1]) : 256;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        double seconds = args.length > 3 ? Double.parseDouble(args[3]) : 1;
        boolean nat = CpuKernels.nativeUnavailable().isEmpty();
        System.out.printf(Locale.ROOT, "kernels: %s; load average %s%n", CpuKernels.describe(), load());
        for (String name : types) {
            DType t = DType.valueOf(name.trim());
            int cols = 4096;
            int nb = cols / 256;
            long rowBytes = t.rowBytes(cols);
            int rows = (int) ((mib << 20) / rowBytes);
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment w = blocks(arena, t, rows, cols, 1);
                float[] x = new float[cols];
                SplittableRandom rnd = new SplittableRandom(4);
                for (int i = 0; i < cols; i++) {
                    x[i] = (float) rnd.nextDouble(-1, 1);
                }
                float[] y = new float[rows];
                long bytes = w.byteSize();
                Map<String, LongSupplier> cs = new LinkedHashMap<>();
                cs.put("read", () -> read(w));
                for (CpuKernels k : nat ? CpuKernels.values() : new CpuKernels[] {CpuKernels.JAVA}) {
                    String kn = k.name().toLowerCase(Locale.ROOT);
                    cs.put("float " + kn, () -> {
                        CpuKernels.use(k);
                        QuantMatVec.matvec(t, w, rows, cols, x, 0, y, 0, 0, rows);
                        return bytes;
                    });
                    cs.put("int8 " + kn, () -> {
                        CpuKernels.use(k);
                        KQuantInt8.rows(t, w, rowBytes, nb, x, 0, y, 0, 0, rows);
                        return bytes;
                    });
                }
                Map<String, double[]> r = run(cs, rounds, (long) (seconds * 1e9));
                System.out.printf(Locale.ROOT, "%n%s %d x %d (%d MiB), 1 thread, %d rounds of >= %.1f s; load %s%n",
                        t, rows, cols, bytes >> 20, rounds, seconds, load());
                for (var e : r.entrySet()) {
                    String cpu = e.getKey().endsWith(CPU) ? CPU : "";
                    System.out.printf(Locale.ROOT, "  %-18s %s GB/%s, of read %s%n", e.getKey(),
                            spread(e.getValue(), 1e-9), cpu.isEmpty() ? "s" : "CPU-s",
                            spread(ratio(e.getValue(), r.get("read" + cpu)), 1));
                }
                // batch on the same (memory-resident) weight: per token, one rows call (decode) vs a batch of 32 / 128
                float[] xb = new float[128 * cols];
                for (int i = 0; i < xb.length; i++) {
                    xb[i] = (float) rnd.nextDouble(-1, 1);
                }
                int brows = Math.min(rows, (int) ((64L << 20) / rowBytes)); // 64 MiB: twice the L3
                float[] yb = new float[128 * brows];
                Map<String, LongSupplier> bs = new LinkedHashMap<>();
                for (CpuKernels k : nat ? CpuKernels.values() : new CpuKernels[] {CpuKernels.JAVA}) {
                    String kn = k.name().toLowerCase(Locale.ROOT);
                    bs.put(kn + " single", () -> {
                        CpuKernels.use(k);
                        KQuantInt8.rows(t, w, rowBytes, nb, xb, 0, yb, 0, 0, brows);
                        return 1;
                    });
                    for (int count : new int[] {32, 128}) {
                        if (k == CpuKernels.JAVA && count > 32) {
                            continue;
                        }
                        bs.put(kn + " batch " + count, () -> {
                            CpuKernels.use(k);
                            KQuantInt8.batch(t, w, rowBytes, nb, xb, 0, cols, count, yb, 0, brows, 0, brows);
                            return count;
                        });
                    }
                }
                Map<String, double[]> rb = run(bs, rounds, (long) (seconds * 1e9));
                System.out.printf(Locale.ROOT, "%s int8 batch vs single on %d x %d (%d MiB, not cache-resident), per"
                        + " token; load %s%n", t, brows, cols, brows * rowBytes >> 20, load());
                for (var e : rb.entrySet()) {
                    String cpu = e.getKey().endsWith(CPU) ? CPU : "";
                    String single = e.getKey().substring(0, e.getKey().indexOf(' ')) + " single" + cpu;
                    System.out.printf(Locale.ROOT, "  %-22s %s ms%s/token, speed-up over single %s%n", e.getKey(),
                            spread(inverse(e.getValue()), 1e3), cpu.isEmpty() ? "" : " CPU",
                            spread(ratio(e.getValue(), rb.get(single)), 1));
                }
            }
        }
        System.out.printf(Locale.ROOT, "load average %s; blackhole %d%n", load(), blackhole & 1);
    }

    private static MemorySegment blocks(Arena arena, DType t, int rows, int cols, long seed) {
        long n = rows * t.rowBytes(cols);
        MemorySegment m = arena.allocate(n, 64);
        SplittableRandom rnd = new SplittableRandom(seed);
        for (long o = 0; o + 8 <= n; o += 8) {
            m.set(ValueLayout.JAVA_LONG_UNALIGNED, o, rnd.nextLong());
        }
        int[] f16 = t == DType.Q6_K ? new int[] {208} : new int[] {0, 2};
        for (long p = 0; p < n; p += t.blockBytes()) {
            for (int o : f16) {
                m.set(ValueLayout.JAVA_SHORT_UNALIGNED, p + o, Float.floatToFloat16((float) rnd.nextDouble(-.05, .05)));
            }
        }
        return m;
    }

    private static long read(MemorySegment s) {
        var ls = LongVector.SPECIES_PREFERRED;
        LongVector acc = LongVector.zero(ls);
        long step = ls.vectorByteSize();
        long n = s.byteSize() - s.byteSize() % step;
        for (long o = 0; o < n; o += step) {
            acc = acc.add(LongVector.fromMemorySegment(ls, s, o, ByteOrder.LITTLE_ENDIAN));
        }
        blackhole ^= acc.reduceLanes(VectorOperators.ADD);
        return s.byteSize();
    }

    private static Map<String, double[]> run(Map<String, LongSupplier> cs, int rounds, long minNanos) {
        Map<String, double[]> out = new LinkedHashMap<>();
        cs.keySet().forEach(k -> out.put(k, new double[rounds]));
        var threads = java.lang.management.ManagementFactory.getThreadMXBean();
        for (int r = -1; r < rounds; r++) {
            for (var e : cs.entrySet()) {
                long units = 0;
                long t0 = System.nanoTime();
                long c0 = threads.getCurrentThreadCpuTime();
                long el;
                do {
                    units += e.getValue().getAsLong();
                    el = System.nanoTime() - t0;
                } while (el < minNanos);
                long cpu = threads.getCurrentThreadCpuTime() - c0;
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

    private static double[] inverse(double[] a) {
        double[] q = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            q[i] = 1 / a[i];
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
        } catch (Exception e) {
            return "?";
        }
    }
}
