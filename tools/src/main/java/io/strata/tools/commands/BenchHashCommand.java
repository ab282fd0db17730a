package io.strata.tools.commands;

import io.strata.core.util.Sizes;
import io.strata.tools.bench.Blake3Bench;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code strata bench hash}: runs {@link Blake3Bench} through JMH and prints MB/s per hasher and input size, with
 * ratios against Bouncy Castle and against a plain read, all measured in the same run.
 */
@Command(name = "hash", mixinStandardHelpOptions = true, sortOptions = false,
        headerHeading = "%n", header = "Benchmark Strata's BLAKE3 against Bouncy Castle, SHA-256 and a plain read.",
        synopsisHeading = "%nSYNOPSIS%n  ",
        descriptionHeading = "%nDESCRIPTION%n",
        description = {
                "  Runs the JMH benchmark io.strata.tools.bench.Blake3Bench in forked JVMs: Strata's BLAKE3 on one",
                "  thread and on --threads threads over off-heap memory, Bouncy Castle's Blake3Digest and the",
                "  JDK's SHA-256 over a heap array holding the same random bytes, and a plain vectorised read",
                "  of the off-heap bytes (the memory-bandwidth ceiling). Prints JMH's own table, then MB/s per",
                "  benchmark and size with the ratio to Bouncy Castle and to the plain read."},
        optionListHeading = "%nOPTIONS%n",
        footerHeading = "%nEXAMPLE%n",
        footer = "  strata bench hash --sizes 1MiB,256MiB --warmup 2 --iterations 3 --time 1")
public final class BenchHashCommand implements Callable<Integer> {
    private static final String BC = "bouncyCastle";
    private static final String READ = "plainRead";

    @Spec
    CommandSpec spec;

    @Option(names = "--sizes", split = ",", paramLabel = "SIZE", defaultValue = "1MiB,256MiB",
            description = "Input sizes, comma-separated (at most 2GiB - 1 each). Default: ${DEFAULT-VALUE}.")
    List<String> sizes;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "0",
            description = "Threads for the all-cores run; 0 = available processors. Default: ${DEFAULT-VALUE}.")
    int threads;

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "2",
            description = "Warm-up iterations per benchmark. Default: ${DEFAULT-VALUE}.")
    int warmup;

    @Option(names = "--iterations", paramLabel = "N", defaultValue = "3",
            description = "Measured iterations per benchmark. Default: ${DEFAULT-VALUE}.")
    int iterations;

    @Option(names = "--time", paramLabel = "SECONDS", defaultValue = "1",
            description = "Seconds per iteration. Default: ${DEFAULT-VALUE}.")
    int seconds;

    @Option(names = "--forks", paramLabel = "N", defaultValue = "1",
            description = "Forked JVMs per benchmark. Default: ${DEFAULT-VALUE}.")
    int forks;

    @Option(names = "--include", paramLabel = "REGEX", defaultValue = "",
            description = "Only benchmark methods matching this regex (e.g. 'strata|bouncy'). Default: all.")
    String include;

    @Override
    public Integer call() throws Exception {
        List<String> sizeParams = new ArrayList<>();
        for (String s : sizes) {
            long bytes = Sizes.parse(s.trim());
            if (bytes <= 0 || bytes > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("--sizes: " + s + " must be between 1 byte and 2GiB");
            }
            sizeParams.add(Long.toString(bytes));
        }
        ChainedOptionsBuilder opts = new OptionsBuilder()
                .include(Blake3Bench.class.getName() + "." + (include.isEmpty() ? "" : "(" + include + ")"))
                .param("size", sizeParams.toArray(String[]::new))
                .param("threads", Integer.toString(threads))
                .forks(forks)
                .warmupIterations(warmup)
                .measurementIterations(iterations)
                .warmupTime(TimeValue.seconds(seconds))
                .measurementTime(TimeValue.seconds(seconds))
                .jvmArgsAppend("--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                        "-Xmx3g", "-XX:+UseParallelGC");
        Collection<RunResult> results = new Runner(opts.build()).run();
        print(results, spec.commandLine().getOut());
        return 0;
    }

    /** The vector width the forks use (each fork's warm-up outcome is in its "BLAKE3 warm-up" line above). */
    private static final class VectorShapeInfo {
        static String describe() {
            try {
                return jdk.incubator.vector.IntVector.SPECIES_PREFERRED.length() + " int lanes";
            } catch (LinkageError e) {
                return "Vector API unavailable";
            }
        }
    }

    /** MB/s (10^6 bytes per second) per benchmark and size, with ratios to Bouncy Castle and the plain read. */
    private void print(Collection<RunResult> results, PrintWriter out) {
        Map<Long, Map<String, double[]>> bySize = new LinkedHashMap<>();
        for (RunResult r : results) {
            long size = Long.parseLong(r.getParams().getParam("size"));
            String name = r.getParams().getBenchmark();
            name = name.substring(name.lastIndexOf('.') + 1);
            double opsPerSec = r.getPrimaryResult().getScore();
            double err = r.getPrimaryResult().getScoreError();
            bySize.computeIfAbsent(size, k -> new LinkedHashMap<>())
                    .put(name, new double[]{opsPerSec * size / 1e6, Double.isNaN(err) ? 0 : err * size / 1e6});
        }
        int n = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        out.printf(Locale.ROOT, "%nBLAKE3 throughput (MB/s = 10^6 B/s; all-cores = %d threads; SIMD: %s)%n", n,
                VectorShapeInfo.describe());
        out.printf(Locale.ROOT, "%-16s %-10s %12s %10s %8s %8s%n", "benchmark", "size", "MB/s", "+/-", "x BC", "/ read");
        for (Map.Entry<Long, Map<String, double[]>> e : bySize.entrySet()) {
            double[] bc = e.getValue().get(BC);
            double[] read = e.getValue().get(READ);
            for (Map.Entry<String, double[]> b : e.getValue().entrySet()) {
                double mbs = b.getValue()[0];
                out.printf(Locale.ROOT, "%-16s %-10s %12.1f %10.1f %8s %8s%n", b.getKey(), Sizes.format(e.getKey()),
                        mbs, b.getValue()[1], bc == null ? "-" : String.format(Locale.ROOT, "%.2f", mbs / bc[0]),
                        read == null ? "-" : String.format(Locale.ROOT, "%.3f", mbs / read[0]));
            }
        }
        out.flush();
    }
}
