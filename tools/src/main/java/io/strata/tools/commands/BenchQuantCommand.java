package io.strata.tools.commands;

import io.strata.core.model.DType;
import io.strata.core.model.Layout;
import io.strata.core.util.Sizes;
import io.strata.core.weights.TensorView;
import io.strata.kernels.cpu.MatVec;
import io.strata.kernels.quant.QuantMatVec;
import io.strata.kernels.quant.Quantize;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorSpecies;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code strata bench quant}: matvec throughput per weight type, in GB/s of weight bytes, against a plain
 * streaming read of the same bytes (a vectorised sum of longs: the memory-bandwidth ceiling) on the same
 * threads. Each round measures the read and the matvec back to back for every thread count, so a swing in this
 * machine's CPU share hits both; the ratio is taken per round and its median and spread reported.
 */
@Command(name = "quant", mixinStandardHelpOptions = true, sortOptions = false,
        headerHeading = "%n", header = "Benchmark quantised matvec against a streaming read of the same bytes.",
        synopsisHeading = "%nSYNOPSIS%n  ",
        descriptionHeading = "%nDESCRIPTION%n",
        description = {
                "  For each type, fills --size of weights ([rows, --cols] row-major, a quantised slab tiled over",
                "  the whole size) and measures, interleaved over --rounds: a vectorised sum of the weight bytes",
                "  and y = W x, each on every --threads count (rows split evenly). Prints GB/s of weight bytes",
                "  (10^9 B/s, median over rounds) and matvec / read with its min-max over rounds. The default",
                "  size is well above any L3 cache, so the read is the memory-bandwidth limit."},
        optionListHeading = "%nOPTIONS%n",
        footerHeading = "%nEXAMPLE%n",
        footer = "  strata bench quant --size 256MiB --types Q4_K,Q8_0 --rounds 5")
public final class BenchQuantCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--size", paramLabel = "SIZE", defaultValue = "256MiB",
            description = "Weight bytes per type. Default: ${DEFAULT-VALUE}.")
    String size;

    @Option(names = "--cols", paramLabel = "N", defaultValue = "4096",
            description = "Row length (a multiple of 256). Default: ${DEFAULT-VALUE}.")
    int cols;

    @Option(names = "--types", split = ",", paramLabel = "TYPE",
            defaultValue = "Q8_0,Q6_K,Q5_K,Q4_K,Q5_1,Q5_0,Q4_1,Q4_0,Q3_K,Q2_K,MXFP4,BF16",
            description = "Weight types (quantised, or F32/F16/BF16 through the float kernel). Default: all.")
    List<String> types;

    @Option(names = "--threads", split = ",", paramLabel = "N", defaultValue = "1,2",
            description = "Thread counts. Default: ${DEFAULT-VALUE}.")
    List<Integer> threads;

    @Option(names = "--rounds", paramLabel = "N", defaultValue = "5",
            description = "Measured rounds (after one warm-up round). Default: ${DEFAULT-VALUE}.")
    int rounds;

    @Option(names = "--passes", paramLabel = "N", defaultValue = "2",
            description = "Passes over the weights per measurement. Default: ${DEFAULT-VALUE}.")
    int passes;

    @Override
    public Integer call() throws Exception {
        long bytes = Sizes.parse(size);
        List<DType> ts = new ArrayList<>();
        for (String s : types) {
            DType t = DType.parse(s.trim()).orElseThrow(() -> usage("--types: unknown type '" + s + "'"));
            if (!t.isQuantized() && t != DType.F32 && t != DType.F16 && t != DType.BF16) {
                throw usage("--types: " + t + " has no matvec kernel");
            }
            ts.add(t);
        }
        if (cols <= 0 || cols % 256 != 0) {
            throw usage("--cols " + cols + " must be a positive multiple of 256");
        }
        if (rounds < 1 || passes < 1 || threads.stream().anyMatch(n -> n < 1)) {
            throw usage("--rounds, --passes and --threads must be at least 1");
        }
        int maxThreads = threads.stream().mapToInt(Integer::intValue).max().orElse(1);
        PrintWriter out = spec.commandLine().getOut();
        out.printf(Locale.ROOT, "quantised matvec vs streaming read: %s of weights per type, rows of %d, %d rounds"
                + " x %d passes, load average %.2f%n", Sizes.format(bytes), cols, rounds, passes, load());
        out.printf(Locale.ROOT, "%-6s %6s", "type", "bits");
        for (int n : threads) {
            out.printf(Locale.ROOT, " | %2dT matvec GB/s  read GB/s  ratio (min-max)   ", n);
        }
        out.println();
        ExecutorService pool = Executors.newFixedThreadPool(maxThreads);
        try {
            for (DType t : ts) {
                bench(t, bytes, pool, out);
            }
        } finally {
            pool.shutdownNow();
        }
        out.printf(Locale.ROOT, "load average at the end: %.2f%n", load());
        out.flush();
        return 0;
    }

    private CommandLine.ParameterException usage(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }

    private static double load() {
        return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }

    private void bench(DType t, long bytes, ExecutorService pool, PrintWriter out) throws Exception {
        long rowBytes = t.rowBytes(cols);
        long rowsL = Math.max(1, bytes / rowBytes);
        if (rowsL > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("--size " + size + " gives " + rowsL + " rows, too many");
        }
        int rows = (int) rowsL;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment w = weights(arena, t, rows);
            TensorView view = new TensorView("w", w, t, new long[]{rows, cols}, Layout.ROW);
            MatVec kernel = t.isQuantized() ? QuantMatVec.INSTANCE : MatVec.vector();
            float[] x = new float[cols];
            Random rnd = new Random(1);
            for (int i = 0; i < cols; i++) {
                x[i] = (float) rnd.nextGaussian();
            }
            float[] y = new float[rows];
            double[][] mv = new double[threads.size()][rounds];
            double[][] rd = new double[threads.size()][rounds];
            for (int round = -1; round < rounds; round++) {
                for (int k = 0; k < threads.size(); k++) {
                    int n = threads.get(k);
                    double read = time(pool, n, rows, (from, to) -> sink += sum(w, from * rowBytes, to * rowBytes));
                    double mat = time(pool, n, rows, (from, to) -> kernel.apply(view, x, 0, y, 0, from, to));
                    if (round >= 0) {
                        rd[k][round] = w.byteSize() * (double) passes / read / 1e9;
                        mv[k][round] = w.byteSize() * (double) passes / mat / 1e9;
                    }
                }
            }
            out.printf(Locale.ROOT, "%-6s %6.2f", t, t.bitsPerElement());
            for (int k = 0; k < threads.size(); k++) {
                double[] ratio = new double[rounds];
                for (int r = 0; r < rounds; r++) {
                    ratio[r] = mv[k][r] / rd[k][r];
                }
                double[] sorted = ratio.clone();
                Arrays.sort(sorted);
                out.printf(Locale.ROOT, " | %16.2f %10.2f %6.3f (%.3f-%.3f)", median(mv[k]), median(rd[k]),
                        median(ratio), sorted[0], sorted[rounds - 1]);
            }
            out.println();
            out.flush();
        }
    }

    /** A slab of quantised Gaussians (about 1 MiB) tiled over all rows: realistic blocks, cheap to make. */
    private MemorySegment weights(Arena arena, DType t, int rows) {
        long rowBytes = t.rowBytes(cols);
        int slabRows = (int) Math.min(rows, Math.max(1, (1L << 20) / rowBytes));
        float[] v = new float[slabRows * cols];
        Random rnd = new Random(7);
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) rnd.nextGaussian() * 0.02f;
        }
        MemorySegment slab = Quantize.tensor(arena, t, v);
        MemorySegment w = arena.allocate(rows * rowBytes, 4096);
        for (long r = 0; r < rows; r += slabRows) {
            long n = Math.min(slabRows, rows - r) * rowBytes;
            MemorySegment.copy(slab, 0, w, r * rowBytes, n);
        }
        return w;
    }

    private interface RowTask {
        void run(int from, int to);
    }

    /** Seconds for {@code passes} passes of {@code task} over all rows, split evenly over {@code n} threads. */
    private double time(ExecutorService pool, int n, int rows, RowTask task) throws Exception {
        long t0 = System.nanoTime();
        for (int p = 0; p < passes; p++) {
            List<Future<?>> fs = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                int from = (int) ((long) rows * i / n);
                int to = (int) ((long) rows * (i + 1) / n);
                fs.add(pool.submit(() -> task.run(from, to)));
            }
            for (Future<?> f : fs) {
                f.get();
            }
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    private static final VectorSpecies<Long> LS = LongVector.SPECIES_PREFERRED;
    /** Written by the read baseline so the JIT cannot drop it. */
    private static volatile long sink;

    /** Vectorised sum of the longs in [from, to) (bytes; the tail past whole vectors is added scalar). */
    private static long sum(MemorySegment w, long from, long to) {
        LongVector acc = LongVector.zero(LS);
        long step = LS.vectorByteSize();
        long p = from;
        for (; p + step <= to; p += step) {
            acc = acc.add(LongVector.fromMemorySegment(LS, w, p, ByteOrder.LITTLE_ENDIAN));
        }
        long s = acc.reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
        for (; p < to; p++) {
            s += w.get(java.lang.foreign.ValueLayout.JAVA_BYTE, p);
        }
        return s;
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
