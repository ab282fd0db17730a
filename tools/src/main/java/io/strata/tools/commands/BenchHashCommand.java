package io.strata.tools.commands;

import io.strata.core.hash.Blake3;
import io.strata.core.hash.ParallelBlake3;
import io.strata.core.util.Sizes;
import io.strata.tools.bench.Interleaved;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.bouncycastle.crypto.digests.Blake3Digest;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code strata bench hash}: Strata's BLAKE3 (one thread, all cores) against Bouncy Castle's Blake3Digest, the
 * JDK's SHA-256 and a plain vectorised read of the same bytes, measured in one process and interleaved round by
 * round ({@link Interleaved}), reported as MB/s with the spread and the ratios to Bouncy Castle and to the read.
 * (JMH versions of these measurements are in the bench module, {@code io.strata.bench.Blake3Bench}.)
 */
@Command(name = "hash", mixinStandardHelpOptions = true, sortOptions = false,
        headerHeading = "%n", header = "Benchmark Strata's BLAKE3 against Bouncy Castle, SHA-256 and a plain read.",
        synopsisHeading = "%nSYNOPSIS%n  ",
        descriptionHeading = "%nDESCRIPTION%n",
        description = {
                "  Per input size: Strata's BLAKE3 on one thread and on --threads threads over off-heap memory,",
                "  Bouncy Castle's Blake3Digest and the JDK's SHA-256 over a heap array holding the same random",
                "  bytes, and a plain vectorised read of the off-heap bytes (the memory-bandwidth ceiling). The",
                "  candidates run interleaved, round by round, in this process, after the SIMD warm-up; each",
                "  measurement lasts at least --time seconds. Prints MB/s (median of --iterations rounds, with",
                "  min..max) and the ratios to Bouncy Castle and to the plain read."},
        optionListHeading = "%nOPTIONS%n",
        footerHeading = "%nEXAMPLE%n",
        footer = "  strata bench hash --sizes 1MiB,256MiB --warmup 2 --iterations 5 --time 1")
public final class BenchHashCommand implements Callable<Integer> {
    private static final String BC = "bouncyCastle";
    private static final String READ = "plainRead";
    private static final VectorSpecies<Long> LONGS = LongVector.SPECIES_PREFERRED;

    @Spec
    CommandSpec spec;

    @Option(names = "--sizes", split = ",", paramLabel = "SIZE", defaultValue = "1MiB,256MiB",
            description = "Input sizes, comma-separated (at most 2GiB - 1 each). Default: ${DEFAULT-VALUE}.")
    List<String> sizes;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "0",
            description = "Threads for the all-cores run; 0 = available processors. Default: ${DEFAULT-VALUE}.")
    int threads;

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "2",
            description = "Unrecorded rounds per size. Default: ${DEFAULT-VALUE}.")
    int warmup;

    @Option(names = "--iterations", paramLabel = "N", defaultValue = "5",
            description = "Recorded rounds per size. Default: ${DEFAULT-VALUE}.")
    int iterations;

    @Option(names = "--time", paramLabel = "SECONDS", defaultValue = "1",
            description = "Least seconds per measurement. Default: ${DEFAULT-VALUE}.")
    double seconds;

    @Option(names = "--include", paramLabel = "REGEX", defaultValue = "",
            description = "Only candidates matching this regex (e.g. 'strata|bouncy'). Default: all.")
    String include;

    @Override
    public Integer call() throws Exception {
        List<Long> sizeBytes = new ArrayList<>();
        for (String s : sizes) {
            long bytes = Sizes.parse(s.trim());
            if (bytes <= 0 || bytes > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("--sizes: " + s + " must be between 1 byte and 2GiB");
            }
            sizeBytes.add(bytes);
        }
        PrintWriter out = spec.commandLine().getOut();
        long t0 = System.nanoTime();
        boolean simd = Blake3.simdWarmUp().get(6, TimeUnit.MINUTES);
        out.printf(Locale.ROOT, "BLAKE3 warm-up %.1f s: %s%n", (System.nanoTime() - t0) / 1e9,
                simd ? Blake3.engine().implementation() : "SIMD unavailable, measuring "
                        + Blake3.engine().implementation());
        int n = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        out.printf(Locale.ROOT, "%nBLAKE3 throughput (MB/s = 10^6 B/s, median of %d rounds [min..max]; all-cores = %d"
                + " threads; %d long lanes)%n", iterations, n, LONGS.length());
        out.printf(Locale.ROOT, "%-16s %-10s %10s %21s %8s %8s%n", "candidate", "size", "MB/s", "spread", "x BC",
                "/ read");
        Pattern only = include.isEmpty() ? null : Pattern.compile(include);
        try (ParallelBlake3 one = new ParallelBlake3(1); ParallelBlake3 all = new ParallelBlake3(n)) {
            for (long size : sizeBytes) {
                measure(size, one, all, only, out);
            }
        }
        out.flush();
        return 0;
    }

    private void measure(long size, ParallelBlake3 one, ParallelBlake3 all, Pattern only, PrintWriter out)
            throws NoSuchAlgorithmException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment offHeap = arena.allocate(size, 64);
            SplittableRandom rnd = new SplittableRandom(size);
            for (long i = 0; i + 8 <= size; i += 8) {
                offHeap.set(ValueLayout.JAVA_LONG_UNALIGNED, i, rnd.nextLong());
            }
            byte[] heap = offHeap.toArray(ValueLayout.JAVA_BYTE);
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            List<Interleaved.Candidate> cs = new ArrayList<>();
            cs.add(new Interleaved.Candidate("strataOneThread", () -> sink(one.hash(offHeap), size)));
            cs.add(new Interleaved.Candidate("strataAllCores", () -> sink(all.hash(offHeap), size)));
            cs.add(new Interleaved.Candidate(BC, () -> {
                Blake3Digest d = new Blake3Digest(256);
                d.update(heap, 0, heap.length);
                byte[] o = new byte[32];
                d.doFinal(o, 0);
                return sink(o, size);
            }));
            cs.add(new Interleaved.Candidate("jdkSha256", () -> sink(sha.digest(heap), size)));
            cs.add(new Interleaved.Candidate(READ, () -> {
                blackhole ^= plainRead(offHeap);
                return size;
            }));
            if (only != null) {
                cs.removeIf(c -> !only.matcher(c.name()).find() && !c.name().equals(BC) && !c.name().equals(READ));
            }
            Map<String, Interleaved.Result> r = Interleaved.run(cs, warmup, iterations, (long) (seconds * 1e9));
            double bc = r.get(BC).median();
            double read = r.get(READ).median();
            for (Interleaved.Result x : r.values()) {
                double mbs = x.median() / 1e6;
                out.printf(Locale.ROOT, "%-16s %-10s %10.1f %21s %8.2f %8.3f%n", x.name(), Sizes.format(size), mbs,
                        String.format(Locale.ROOT, "[%.1f..%.1f]", x.min() / 1e6, x.max() / 1e6), x.median() / bc,
                        x.median() / read);
            }
        }
    }

    private static long blackhole;

    private static long sink(byte[] digest, long size) {
        blackhole ^= digest[0];
        return size;
    }

    /** Sums every byte as longs with full-width vectors: touches the memory, does no hashing. */
    static long plainRead(MemorySegment s) {
        LongVector acc = LongVector.zero(LONGS);
        long step = LONGS.vectorByteSize();
        long end = s.byteSize() - s.byteSize() % step;
        for (long off = 0; off < end; off += step) {
            acc = acc.add(LongVector.fromMemorySegment(LONGS, s, off, ByteOrder.nativeOrder()));
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }
}
