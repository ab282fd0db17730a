package io.strata.kernels.quant;

import io.strata.core.model.DType;
import io.strata.kernels.cpu.CpuKernels;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.function.LongSupplier;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;

/**
 * One thread, kernels alone: GB/s of weight bytes consumed by the float path ({@link QuantMatVec#matvec}) and the
 * int8-activation path ({@link LegacyInt8#rows}), Java and native, against a streaming read of the same bytes,
 * interleaved round by round on a weight far larger than the caches; then the batch form's time per input for 32
 * and 128 inputs against the single form's, on the same weight. Not a test (a main of the test sources): run
 * {@code java --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp CP
 * io.strata.kernels.quant.LegacyInt8Bench [TYPES] [MiB] [rounds] [seconds]}.
 */
public final class LegacyInt8Bench {
    private static long blackhole;
    /** Rates per second of this thread's CPU time (the machine is shared: what a kernel does while it runs). */
    private static final String CPU = " (cpu)";
    private static final java.lang.management.ThreadMXBean THREADS =
            java.lang.management.ManagementFactory.getThreadMXBean();

    private LegacyInt8Bench() {
    }

    public static void main(String[] args) throws IOException {
        String[] types = (args.length > 0 ? args[0] : "Q8_0,Q4_0").split(",");
        long mib = args.length > 1 ? Long.parseLong(args[1]) : 256;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        double seconds = args.length > 3 ? Double.parseDouble(args[3]) : 1;
        boolean nat = CpuKernels.nativeUnavailable().isEmpty();
        System.out.printf(Locale.ROOT, "kernels: %s; load %s%n", CpuKernels.describe(), load());
        for (String name : types) {
            DType t = DType.valueOf(name.trim());
            int cols = 4096;
            int nb = cols / 32;
            long rowBytes = t.rowBytes(cols);
            int rows = (int) ((mib << 20) / rowBytes);
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment w = QuantMatVecTest.randomBlocks(arena, t, rows, cols, new Random(1));
                float[] x = QuantMatVecTest.randomX(new Random(2), 128 * cols);
                float[] y = new float[128 * rows];
                long bytes = w.byteSize();
                Map<String, LongSupplier> cs = new LinkedHashMap<>();
                cs.put("read", () -> read(w));
                for (CpuKernels k : nat ? new CpuKernels[] {CpuKernels.JAVA, CpuKernels.NATIVE}
                        : new CpuKernels[] {CpuKernels.JAVA}) {
                    String kn = k.name().toLowerCase(Locale.ROOT);
                    if (t == DType.Q8_0 || t == DType.Q4_0 || k == CpuKernels.JAVA) {
                        cs.put("float " + kn, () -> {
                            CpuKernels.use(k);
                            QuantMatVec.matvec(t, w, rows, cols, x, 0, y, 0, 0, rows);
                            return bytes;
                        });
                    }
                    cs.put("int8 " + kn, () -> {
                        CpuKernels.use(k);
                        LegacyInt8.rows(t, w, rowBytes, nb, x, 0, y, 0, 0, rows);
                        return bytes;
                    });
                    if (k == CpuKernels.NATIVE || !nat) {
                        for (int count : new int[] {32, 128}) {
                            // weight bytes per input: per-token speed, comparable with the single form's GB/s
                            cs.put("int8 " + kn + " batch " + count, () -> {
                                CpuKernels.use(k);
                                LegacyInt8.batch(t, w, rowBytes, nb, x, 0, cols, count, y, 0, rows, 0, rows);
                                return bytes * count;
                            });
                        }
                    }
                }
                Map<String, double[]> r = run(cs, rounds, (long) (seconds * 1e9));
                System.out.printf(Locale.ROOT, "%n%s %d x %d (%d MiB), 1 thread, %d rounds of >= %.1f s; load %s%n",
                        t, rows, cols, bytes >> 20, rounds, seconds, load());
                for (String clock : new String[] {"", CPU}) {
                    System.out.printf(Locale.ROOT, "  by %s:%n", clock.isEmpty() ? "wall time" : "thread CPU time");
                    for (String k : cs.keySet()) {
                        double[] v = r.get(k + clock);
                        System.out.printf(Locale.ROOT, "  %-22s %s GB/s  of read %s%n", k, spread(v, 1e-9),
                                spread(ratio(v, r.get("read" + clock)), 1));
                    }
                    String single = nat ? "int8 native" : "int8 java";
                    for (String k : cs.keySet()) {
                        if (k.contains(" batch ")) {
                            System.out.printf(Locale.ROOT, "  %-22s per-input speed / single's: %s%n", k,
                                    spread(ratio(r.get(k + clock), r.get(single + clock)), 1));
                        }
                    }
                    if (nat && cs.containsKey("float native")) {
                        System.out.printf(Locale.ROOT, "  int8/float native      %s%n",
                                spread(ratio(r.get("int8 native" + clock), r.get("float native" + clock)), 1));
                    }
                }
            }
        }
        System.out.printf(Locale.ROOT, "load %s; blackhole %d%n", load(), blackhole & 1);
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
        cs.keySet().forEach(k -> out.put(k + CPU, new double[rounds]));
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
                    out.get(e.getKey() + CPU)[r] = units / (cpu / 1e9);
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
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (IOException e) {
            return "?";
        }
    }
}
