package io.strata.tools.commands;

import io.strata.core.manifest.GroupInfo;
import io.strata.core.manifest.Manifest;
import io.strata.core.manifest.ManifestCodec;
import io.strata.core.manifest.ShardInfo;
import io.strata.core.util.Sizes;
import io.strata.loader.cache.ExpertHandle;
import io.strata.nativeaccess.posix.PageCacheControl;
import io.strata.loader.runtime.ModelRuntime;
import io.strata.loader.runtime.RuntimeOptions;
import io.strata.loader.runtime.ReadMode;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import io.strata.core.model.DType;
import io.strata.core.model.ModelFamily;
import io.strata.storage.convert.ConvertOptions;
import io.strata.storage.convert.ProgressListener;
import io.strata.storage.convert.ShardConverter;
import io.strata.storage.synth.SyntheticCheckpoint;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code strata bench page-in}: expert page-in throughput against a plain sequential read of the same bytes. */
@Command(name = "page-in", mixinStandardHelpOptions = true, sortOptions = false,
        headerHeading = "%n", header = "Benchmark disk-to-host expert page-in against a sequential read.",
        synopsisHeading = "%nSYNOPSIS%n  ",
        descriptionHeading = "%nDESCRIPTION%n",
        description = {
                "  Baseline: read every shard file that holds experts front to back with FileChannel into one",
                "  off-heap buffer. Page-in: open MODEL with the runtime (no disk cache, no prefetch, host budget",
                "  --host-mem) and pin every expert once, in (layer, expert) order, into host memory. Both move",
                "  the same expert bytes in the same run; the ratio page-in / sequential is the figure of merit.",
                "  Page-in verifies every chunk against the manifest's BLAKE3 (the default); the same page-in",
                "  with --trust-local (no verification) runs in the same rounds, so the cost of verification on",
                "  read is their ratio (verified / unverified throughput, per round: min..max).",
                "  Each is measured cold (the files' pages dropped from the page cache with",
                "  posix_fadvise(DONTNEED) first, where the platform allows) and warm (cached); cold also reads",
                "  every shard with O_DIRECT (16 MiB requests, one stream; and four, for the device's best)",
                "  without any page cache. Every figure is the median over rounds of its ratio to the same round's",
                "  sequential read (min..max).",
                "  --read-modes compares direct (O_DIRECT), drop (buffered + DONTNEED) and buffered page-in."},
        parameterListHeading = "%nARGUMENTS%n",
        optionListHeading = "%nOPTIONS%n",
        exitCodeListHeading = "%nEXIT STATUS%n",
        exitCodeList = {"0:measured", "1:the model is missing or invalid", "2:bad usage"},
        footerHeading = "%nEXAMPLE%n",
        footer = {"  strata bench page-in ./mixtral-strata --host-mem 8GiB --rounds 3 --stats",
                "  strata bench page-in --synthetic 1GiB --host-mem 256MiB"})
public final class BenchPageInCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "MODEL",
            description = "A converted model directory (or none with --synthetic).")
    Path model;

    @Option(names = "--synthetic", paramLabel = "SIZE",
            description = "Generate and convert a BF16 Mixtral-layout model of about SIZE in a temporary directory"
                    + " (removed afterwards) and benchmark that.")
    String synthetic;

    @Option(names = "--host-mem", defaultValue = "1GiB", paramLabel = "SIZE",
            description = "Host budget for the page-in run (default ${DEFAULT-VALUE}).")
    String hostMem;

    @Option(names = "--rounds", defaultValue = "3", description = "Interleaved rounds; each figure is the median"
            + " over rounds of its ratio to the same round's sequential read (default ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--stats", description = "Print the runtime's per-tier telemetry after the last page-in run.")
    boolean stats;

    @Option(names = "--read-modes", paramLabel = "M,M", split = ",", defaultValue = "direct,drop,buffered",
            description = "Read modes compared, each measured in the same rounds (the first is used for the other"
                    + " figures). Default: ${DEFAULT-VALUE}.")
    List<String> readModes;

    private ReadMode mode = ReadMode.DIRECT;

    @Override
    public Integer call() throws Exception {
        if ((model == null) == (synthetic == null)) {
            throw new IllegalArgumentException("give either a MODEL directory or --synthetic SIZE");
        }
        if (synthetic == null) {
            return bench();
        }
        Path base = Files.createTempDirectory("strata-bench-page-in-");
        try {
            SyntheticCheckpoint.Builder b = SyntheticCheckpoint.builder().family(ModelFamily.MIXTRAL)
                    .dtype(DType.BF16).hidden(1024).intermediate(2048).heads(8).kvHeads(2).headDim(128).experts(8)
                    .topK(2).vocab(1024).layers(1);
            long target = Sizes.parse(synthetic);
            for (int layers = 2; b.tensorBytes() < target; layers++) {
                b.layers(layers);
            }
            b.write(base.resolve("src"));
            model = base.resolve("model");
            ShardConverter.convert(base.resolve("src"), model, ConvertOptions.defaults(), ProgressListener.NONE);
            return bench();
        } finally {
            try (var walk = Files.walk(base)) {
                for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private int bench() throws Exception {
        Manifest m = ManifestCodec.read(model);
        if (!m.isMoe()) {
            throw new IllegalArgumentException(model + ": not an MoE model (no expert groups to page in)");
        }
        List<GroupInfo> groups = m.groups().values().stream().filter(GroupInfo::isExpert).toList();
        long expertBytes = groups.stream().mapToLong(GroupInfo::size).sum();
        List<ShardInfo> shards = m.shards().stream()
                .filter(s -> groups.stream().anyMatch(g -> g.shard() == s.index())).toList();
        long shardBytes = shards.stream().mapToLong(ShardInfo::size).sum();
        PrintWriter out = spec.commandLine().getOut();
        // verified page-in hashes with SIMD once it is warm; measure that steady state from the first round
        io.strata.core.hash.Blake3.simdWarmUp().join();
        out.printf(Locale.ROOT, "%s: %d experts, %s of experts in %d shards (%s)%n", model, groups.size(),
                Sizes.format(expertBytes), shards.size(), Sizes.format(shardBytes));
        Optional<String> coldProblem = PageCacheControl.supported() ? Optional.empty()
                : Optional.of("posix_fadvise unavailable");
        for (boolean cold : new boolean[]{true, false}) {
            if (cold && coldProblem.isPresent()) {
                out.println("cold: skipped (" + coldProblem.get() + ")");
                continue;
            }
            StringWriter statsText = new StringWriter();
            PrintWriter statsOut = new PrintWriter(statsText);
            // per round, seconds: every page-in is compared with the sequential reads of the same round
            double[] seq = new double[rounds];
            double[] direct = new double[rounds];
            double[] direct4 = new double[rounds];
            double[] verified = new double[rounds];
            double[] trusted = new double[rounds];
            double[] ahead = new double[rounds];
            java.util.Map<String, double[]> byMode = new java.util.LinkedHashMap<>();
            for (String name : readModes) {
                byMode.put(name, new double[rounds]);
            }
            for (int r = 0; r < rounds; r++) {
                for (String name : readModes) { // each mode's verified page-in
                    if (cold) {
                        dropCaches(shards);
                    }
                    mode = ReadMode.parse(name);
                    byMode.get(name)[r] = pageIn(m, false, false, null);
                }
                mode = ReadMode.parse(readModes.getFirst());
                if (cold) {
                    dropCaches(shards);
                }
                seq[r] = sequentialRead(shards);
                if (cold) { // the device without the page cache: O_DIRECT, 16 MiB requests, one stream and four
                    dropCaches(shards);
                    direct[r] = shardBytes / BenchPagingCommand.rawRead(model, m, 1, true);
                    dropCaches(shards);
                    direct4[r] = shardBytes / BenchPagingCommand.rawRead(model, m, 4, true);
                }
                // verified and unverified alternate which goes first, so neither always meets a warmer machine
                for (boolean trust : r % 2 == 0 ? new boolean[]{false, true} : new boolean[]{true, false}) {
                    if (cold) {
                        dropCaches(shards);
                    }
                    double secs = pageIn(m, false, trust, null);
                    if (trust) {
                        trusted[r] = secs;
                    } else {
                        verified[r] = secs;
                    }
                }
                if (cold) {
                    dropCaches(shards);
                }
                ahead[r] = pageIn(m, true, false, r == rounds - 1 && stats ? statsOut : null);
            }
            String c = cold ? "cold" : "warm";
            out.printf(Locale.ROOT, "%s sequential read (buffered) %s/s median (%s..%s)%n", c,
                    rate(shardBytes, median(seq)), rate(shardBytes, max(seq)), rate(shardBytes, min(seq)));
            if (cold) {
                out.printf(Locale.ROOT, "%s O_DIRECT sequential read   %s/s median (%s..%s); with 4 streams (64 MiB in"
                                + " flight, more than one expert) %s/s (%s..%s)%n", c,
                        rate(shardBytes, median(direct)), rate(shardBytes, max(direct)), rate(shardBytes, min(direct)),
                        rate(shardBytes, median(direct4)), rate(shardBytes, max(direct4)),
                        rate(shardBytes, min(direct4)));
            }
            out.printf(Locale.ROOT, "%s page-in / sequential read of the same round: median (min..max) over %d rounds"
                    + "%n", c, rounds);
            java.util.Map<String, double[]> rows = new java.util.LinkedHashMap<>();
            rows.put("verified", verified);
            rows.put("unverified (--trust-local)", trusted);
            rows.put("verified, prefetch 2 ahead", ahead);
            byMode.forEach((k, v) -> rows.put("read mode " + k + " (verified)", v));
            for (var e : rows.entrySet()) {
                double[] v = e.getValue();
                double[] toSeq = new double[rounds];
                double[] toDirect = new double[rounds];
                double[] toDirect4 = new double[rounds];
                for (int r = 0; r < rounds; r++) {
                    toSeq[r] = (expertBytes / v[r]) / (shardBytes / seq[r]);
                    toDirect[r] = (expertBytes / v[r]) / (shardBytes / direct[r]);
                    toDirect4[r] = cold ? (expertBytes / v[r]) / (shardBytes / direct4[r]) : 0;
                }
                out.printf(Locale.ROOT, "  %-34s %10s/s  of buffered %.2f (%.2f..%.2f)%s%n", e.getKey(),
                        rate(expertBytes, median(v)), median(toSeq), min(toSeq), max(toSeq), !cold ? ""
                                : String.format(Locale.ROOT, "  of O_DIRECT %.2f (%.2f..%.2f)  of 4 streams %.2f"
                                + " (%.2f..%.2f)", median(toDirect), min(toDirect), max(toDirect), median(toDirect4),
                                min(toDirect4), max(toDirect4)));
            }
            double[] cost = new double[rounds];
            for (int r = 0; r < rounds; r++) {
                cost[r] = trusted[r] / verified[r];
            }
            out.printf(Locale.ROOT, "%s verified/unverified throughput %.2f (%.2f..%.2f)%n", c, median(cost), min(cost),
                    max(cost));
            statsOut.flush();
            out.print(statsText);
        }
        out.flush();
        return 0;
    }

    private static String rate(long bytes, double secs) {
        return Sizes.format((long) (bytes / secs));
    }

    static double median(double[] v) {
        double[] s = v.clone();
        java.util.Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static double min(double[] v) {
        return java.util.Arrays.stream(v).min().orElse(Double.NaN);
    }

    private static double max(double[] v) {
        return java.util.Arrays.stream(v).max().orElse(Double.NaN);
    }

    private void dropCaches(List<ShardInfo> shards) {
        for (ShardInfo s : shards) {
            PageCacheControl.evict(model.resolve(s.filename())).ifPresent(why -> {
                throw new IllegalStateException(model.resolve(s.filename()) + ": cannot drop cached pages: " + why);
            });
        }
    }

    /** Reads the shards front to back; returns seconds. */
    private double sequentialRead(List<ShardInfo> shards) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            ByteBuffer buf = a.allocate(8 << 20, 4096).asByteBuffer();
            long t0 = System.nanoTime();
            long n = 0;
            for (ShardInfo s : shards) {
                try (FileChannel ch = FileChannel.open(model.resolve(s.filename()), StandardOpenOption.READ)) {
                    int k;
                    while ((k = ch.read(buf.clear())) > 0) {
                        n += k;
                    }
                }
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            if (n == 0) {
                throw new IOException(model + ": read no bytes");
            }
            return secs;
        }
    }

    /**
     * Pins every expert once into host memory, in manifest order; with {@code ahead}, first hints the next two to
     * the prefetch scheduler (2 I/O threads), as a decoder's speculative gating would; with {@code trustLocal},
     * reads without verifying the chunks. Each run opens the model afresh, so its chunks are verified again.
     * Returns seconds.
     */
    private double pageIn(Manifest m, boolean ahead, boolean trustLocal, PrintWriter statsOut) {
        RuntimeOptions o = RuntimeOptions.builder().noDiskCache().hostBudget(Sizes.parse(hostMem)).prefetch(ahead)
                .frequencyPrefetch(false).ioThreads(2).policy("lru").trustLocal(trustLocal).readMode(mode).build();
        List<GroupInfo> experts = m.groups().values().stream().filter(GroupInfo::isExpert).toList();
        try (ModelRuntime rt = ModelRuntime.open(model, o)) {
            long t0 = System.nanoTime();
            long sink = 0;
            for (int i = 0; i < experts.size(); i++) {
                GroupInfo g = experts.get(i);
                for (int k = 1; ahead && k <= 2 && i + k < experts.size(); k++) {
                    GroupInfo next = experts.get(i + k);
                    rt.prefetch(next.layerIndex(), new int[]{next.expertIndex()});
                }
                try (ExpertHandle h = rt.expert(g.layerIndex(), g.expertIndex(), io.strata.core.model.Tier.HOST)) {
                    MemorySegment b = h.bytes();
                    sink += b.get(java.lang.foreign.ValueLayout.JAVA_BYTE, b.byteSize() - 1);
                }
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            if (statsOut != null) {
                statsOut.print(rt.telemetry().format());
            }
            return sink == Long.MIN_VALUE ? Double.MAX_VALUE : secs; // sink keeps the reads alive
        }
    }
}
