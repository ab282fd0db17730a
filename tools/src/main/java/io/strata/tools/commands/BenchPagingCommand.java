package io.strata.tools.commands;

import io.strata.core.manifest.GroupInfo;
import io.strata.core.manifest.Manifest;
import io.strata.core.manifest.ManifestCodec;
import io.strata.core.manifest.ShardInfo;
import io.strata.core.model.DType;
import io.strata.core.model.ModelFamily;
import io.strata.core.model.Tier;
import io.strata.core.telemetry.TelemetrySnapshot;
import io.strata.core.telemetry.TierStats;
import io.strata.core.util.Sizes;
import io.strata.kernels.decoder.DecoderOptions;
import io.strata.kernels.decoder.Sampler;
import io.strata.kernels.decoder.StepListener;
import io.strata.loader.runtime.ModelRuntime;
import io.strata.loader.runtime.RuntimeOptions;
import io.strata.loader.runtime.ReadMode;
import io.strata.loader.runtime.MemoryFit;
import io.strata.nativeaccess.posix.PageCacheControl;
import io.strata.storage.convert.ConvertOptions;
import io.strata.storage.convert.ProgressListener;
import io.strata.storage.convert.ShardConverter;
import io.strata.storage.fs.FileTrees;
import io.strata.storage.synth.SyntheticCheckpoint;
import io.strata.tools.StrataCli;
import io.strata.tools.bench.Interleaved;
import io.strata.tools.generate.GenerationRequest;
import io.strata.tools.generate.GenerationResult;
import io.strata.tools.generate.Generator;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code strata bench paging}: decode of a generated model at least twice the memory the run is allowed, with the
 * raw cold read bandwidth of its shards measured in the same run. Why a benchmark of its own: every earlier
 * figure had a page cache that held the whole model, so page-in looked like a memory copy; here the paged run
 * lives in a cgroup memory limit (when run as root and the memory controller is writable) that cannot hold the
 * model, so every miss is a real device read, and the figures are ratios to that device's raw speed.
 */
@Command(name = "paging", mixinStandardHelpOptions = true, sortOptions = false,
        header = "Decode a model bigger than the memory allowed: page-in and tok/s against the raw read bound.",
        description = {
                "Generates a BF16 Mixtral-layout model of --model-size (default 2.2GiB) in --dir (deleted after",
                "unless --keep), after checking the free disk space. Each round, interleaved: (1) raw cold read of",
                "the shard files with O_DIRECT (1 and 4 streams of 16 MiB requests; the faster counts as raw) and",
                "buffered after dropping the page cache (echo 1 > /proc/sys/vm/drop_caches as root, else",
                "posix_fadvise DONTNEED); (2) for each --read-modes mode, a child JVM decoding --tokens tokens with",
                "no budget flags (automatic fit) inside a memory cgroup of --memory: as root, the child is started",
                "by /bin/sh in a new cgroup (v2: /sys/fs/cgroup/strata-bench-PID with memory.max; v1:",
                "/sys/fs/cgroup/memory/strata-bench-PID with memory.limit_in_bytes) and the cgroup is removed",
                "after. Reports per mode, median (min..max) over rounds: decode tok/s, bytes missed and read per",
                "token, page-in bandwidth while decoding (bytes paged in / wall time with a read in flight), the",
                "I/O bound (raw bandwidth / bytes missed per token) and the fraction of it reached, the cgroup's",
                "peak memory, and /proc/loadavg before and after."})
public final class BenchPagingCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model-size", paramLabel = "SIZE", defaultValue = "2200MiB",
            description = "Generated model size. Default: ${DEFAULT-VALUE}.")
    String modelSize;

    @Option(names = "--router-skew", defaultValue = "0.3", description = "Router skew of the generated model (0 ="
            + " uniform routing, every token misses; larger = hot experts). Default: ${DEFAULT-VALUE}.")
    double routerSkew;

    @Option(names = "--memory", paramLabel = "SIZE", defaultValue = "1GiB",
            description = "Memory limit of the decoding process (cgroup). Default: ${DEFAULT-VALUE}.")
    String memory;

    @Option(names = "--heap", paramLabel = "SIZE", defaultValue = "160MiB",
            description = "The child JVM's -Xmx. Default: ${DEFAULT-VALUE}.")
    String heap;

    @Option(names = "--tokens", defaultValue = "24", description = "Decoded tokens per measured run. Default: ${DEFAULT-VALUE}.")
    int tokens;

    @Option(names = "--rounds", defaultValue = "3", description = "Interleaved rounds. Default: ${DEFAULT-VALUE}.")
    int rounds;

    @Option(names = "--read-modes", paramLabel = "M,M", split = ",", defaultValue = "direct,drop",
            description = "Variants to compare: a read mode (direct, drop, buffered), optionally with /nofreq (no"
                    + " frequency prefetch), /freq (frequency prefetch on), /nospec (no speculative gating), /fifo"
                    + " (guesses' reads not behind demand reads, wrong guesses not cancelled) or /fixed (experts"
                    + " computed in routing order, not as they arrive); flags combine: direct/fifo/fixed. Default: ${DEFAULT-VALUE}.")
    List<String> readModes;

    @Option(names = "--dir", paramLabel = "DIR", description = "Where to generate the model. Default: the temp dir.")
    Path dir;

    @Option(names = "--model", paramLabel = "DIR", description = "Use this converted model instead of generating one.")
    Path model;

    @Option(names = "--keep", description = "Keep the generated model.")
    boolean keep;

    @Option(names = "--no-cgroup", description = "Do not confine the child to a memory cgroup.")
    boolean noCgroup;

    @Option(names = "--child", hidden = true, description = "Internal: decode MODEL and print one RESULT line.")
    boolean child;

    @Option(names = "--read-mode", hidden = true, defaultValue = "direct")
    String readMode;

    @Option(names = "--threads", paramLabel = "N", description = "Compute threads of the decoder. Default: all cores.")
    Integer threads;

    private static final List<Integer> PROMPT = List.of(1, 17, 42, 256, 1001, 7, 99, 512);
    private static final List<Integer> WARMUP_PROMPT = List.of(3, 5, 8, 13, 21);

    @Override
    public Integer call() throws Exception {
        return child ? child() : parent();
    }

    // ---------------------------------------------------------------- parent

    private int parent() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        out.println("load before: " + loadavg());
        Path base = null;
        Path m = model;
        try {
            if (m == null) {
                base = Files.createTempDirectory(dir != null ? Files.createDirectories(dir)
                        : Path.of(System.getProperty("java.io.tmpdir")), "strata-bench-paging-");
                m = generate(base, out);
            }
            bench(m, out);
        } finally {
            if (base != null && !keep) {
                FileTrees.delete(base);
                out.println("removed " + base);
            }
        }
        out.println("load after: " + loadavg());
        out.flush();
        return 0;
    }

    private Path generate(Path base, PrintWriter out) throws IOException {
        long target = Sizes.parse(modelSize);
        SyntheticCheckpoint.Builder b = SyntheticCheckpoint.builder().family(ModelFamily.MIXTRAL).dtype(DType.BF16)
                .hidden(1024).intermediate(2816).heads(8).kvHeads(2).headDim(128).experts(16).topK(2).vocab(4096)
                .routerSkew(routerSkew).seed(16).shards(4).layers(1);
        for (int layers = 2; b.tensorBytes() < target; layers++) {
            b.layers(layers);
        }
        long need = 2 * b.tensorBytes() + (256L << 20); // the checkpoint and the converted model, briefly both
        long free = Files.getFileStore(base).getUsableSpace();
        out.printf(Locale.ROOT, "disk: %s free at %s, need %s (checkpoint + converted model, checkpoint deleted after"
                + " converting)%n", Sizes.format(free), base, Sizes.format(need));
        if (free < need) {
            throw new IllegalArgumentException("--dir " + base + ": " + Sizes.format(free) + " free, the benchmark"
                    + " needs " + Sizes.format(need) + "; lower --model-size or pick another --dir");
        }
        long t0 = System.nanoTime();
        Path src = base.resolve("checkpoint");
        b.write(src);
        Path m = base.resolve("model");
        ShardConverter.convert(src, m, ConvertOptions.defaults(), ProgressListener.NONE);
        FileTrees.delete(src);
        out.printf(Locale.ROOT, "generated %s of BF16 weights in %.0f s: %s%n", Sizes.format(b.tensorBytes()),
                (System.nanoTime() - t0) / 1e9, m);
        out.flush();
        return m;
    }

    private void bench(Path m, PrintWriter out) throws Exception {
        Manifest man = ManifestCodec.read(m);
        long modelBytes = man.shards().stream().mapToLong(ShardInfo::size).sum();
        long expertBytes = man.groups().values().stream().filter(GroupInfo::isExpert).mapToLong(GroupInfo::size)
                .sum();
        long limit = Sizes.parse(memory);
        Cgroup cg = noCgroup ? null : Cgroup.find();
        out.printf(Locale.ROOT, "model %s: %s in %d shards (%s of experts); memory allowed %s = %.2fx smaller%n", m,
                Sizes.format(modelBytes), man.shards().size(), Sizes.format(expertBytes), Sizes.format(limit),
                (double) modelBytes / limit);
        out.println(cg == null ? "cgroup: none (" + (noCgroup ? "--no-cgroup" : Cgroup.whyNot()) + "); the limit is"
                + " NOT enforced, only the automatic fit sees --memory as nothing" : "cgroup: " + cg.describe());
        boolean dropAll = canDropCaches();
        out.println("page cache: " + (dropAll ? "dropped with echo 1 > /proc/sys/vm/drop_caches before each cold"
                + " read" : "dropped per file with posix_fadvise(DONTNEED) (not root)"));
        out.flush();
        Map<String, List<Double>> raw = new LinkedHashMap<>();
        Map<String, List<Map<String, Double>>> runs = new LinkedHashMap<>();
        for (int r = 0; r < rounds; r++) {
            drop(m, man, dropAll);
            raw.computeIfAbsent("O_DIRECT 1 stream", k -> new ArrayList<>()).add(rawRead(m, man, 1, true));
            raw.computeIfAbsent("O_DIRECT 4 streams", k -> new ArrayList<>()).add(rawRead(m, man, 4, true));
            drop(m, man, dropAll);
            raw.computeIfAbsent("buffered, cold", k -> new ArrayList<>()).add(rawRead(m, man, 1, false));
            // modes alternate which goes first, so neither always meets a warmer machine
            List<String> order = new ArrayList<>(readModes);
            if (r % 2 == 1) {
                java.util.Collections.reverse(order);
            }
            for (String mode : order) {
                drop(m, man, dropAll);
                Map<String, Double> res = runChild(m, mode, limit, cg, out);
                runs.computeIfAbsent(mode, k -> new ArrayList<>()).add(res);
                out.printf(Locale.ROOT, "round %d %-16s %.2f tok/s, %s missed/token, page-in %s/s, cgroup peak %s;"
                                + " child: RssAnon %s, VmHWM %s, host ledger high water %s of %s%n",
                        r + 1, mode, res.get("tokps"), Sizes.format(res.get("missedPerToken").longValue()),
                        Sizes.format(res.get("pageInBps").longValue()), res.containsKey("cgroupPeak")
                                ? Sizes.format(res.get("cgroupPeak").longValue()) : "-",
                        Sizes.format(res.get("rssAnon").longValue()), Sizes.format(res.get("vmHwm").longValue()),
                        Sizes.format(res.get("hostHighWater").longValue()),
                        Sizes.format(res.get("hostBudget").longValue()));
                out.flush();
            }
        }
        out.printf(Locale.ROOT, "%nraw cold read of the %s of shards (median, min..max over %d rounds):%n",
                Sizes.format(modelBytes), rounds);
        double rawBps = 0;
        for (var e : raw.entrySet()) {
            Interleaved.Result res = new Interleaved.Result(e.getKey(), e.getValue().stream().mapToDouble(d -> d)
                    .toArray());
            out.printf(Locale.ROOT, "  %-20s %10s/s (%s..%s)%n", e.getKey(), Sizes.format((long) res.median()),
                    Sizes.format((long) res.min()), Sizes.format((long) res.max()));
            if (e.getKey().startsWith("O_DIRECT")) {
                rawBps = Math.max(rawBps, res.median());
            }
        }
        out.printf(Locale.ROOT, "  raw = the faster O_DIRECT median: %s/s%n%n", Sizes.format((long) rawBps));
        table(runs, rawBps, out);
    }

    private void table(Map<String, List<Map<String, Double>>> runs, double rawBps, PrintWriter out) {
        out.printf(Locale.ROOT, "%-20s %-20s %11s %11s %11s %22s %9s %-18s %9s %-18s %9s %-18s %9s %9s %5s %6s %6s"
                        + " %7s%n", "variant", "tok/s", "missed/tok", "needed/tok", "read/tok", "page-in/s (of raw)",
                "bound", "of bound", "bound(n)", "of bound(n)", "bound(r)", "of bound(r)", "peak mem", "host bdgt",
                "wait", "pf acc", "cancel", "disk wr");
        for (var e : runs.entrySet()) {
            List<Map<String, Double>> rs = e.getValue();
            Interleaved.Result tok = series("tok/s", rs, "tokps");
            Interleaved.Result missed = series("missed", rs, "missedPerToken");
            Interleaved.Result read = series("read", rs, "readPerToken");
            Interleaved.Result bw = series("bw", rs, "pageInBps");
            Interleaved.Result frac = new Interleaved.Result("frac", rs.stream()
                    .mapToDouble(x -> x.get("tokps") * x.get("missedPerToken") / rawBps).toArray());
            Interleaved.Result peak = series("peak", rs, "cgroupPeak");
            Interleaved.Result fracN = new Interleaved.Result("fracR", rs.stream()
                    .mapToDouble(x -> x.get("tokps") * x.get("readPerToken") / rawBps).toArray());
            Interleaved.Result needed = series("needed", rs, "neededPerToken");
            Interleaved.Result fracD = new Interleaved.Result("fracN", rs.stream()
                    .mapToDouble(x -> x.get("tokps") * x.getOrDefault("neededPerToken", 0.0) / rawBps).toArray());
            out.printf(Locale.ROOT, "%-20s %-20s %11s %11s %11s %22s %9.2f %-18s %9.2f %-18s %9.2f %-18s %9s %9s %5.2f"
                            + " %6.2f %6.0f %7s%n",
                    e.getKey(),
                    String.format(Locale.ROOT, "%.2f (%.2f..%.2f)", tok.median(), tok.min(), tok.max()),
                    Sizes.format((long) missed.median()), Sizes.format((long) needed.median()),
                    Sizes.format((long) read.median()),
                    String.format(Locale.ROOT, "%s/s (%.2f)", Sizes.format((long) bw.median()), bw.median() / rawBps),
                    rawBps / missed.median(),
                    String.format(Locale.ROOT, "%.2f (%.2f..%.2f)", frac.median(), frac.min(), frac.max()),
                    rawBps / needed.median(),
                    String.format(Locale.ROOT, "%.2f (%.2f..%.2f)", fracD.median(), fracD.min(), fracD.max()),
                    rawBps / read.median(),
                    String.format(Locale.ROOT, "%.2f (%.2f..%.2f)", fracN.median(), fracN.min(), fracN.max()),
                    peak.max() > 0 ? Sizes.format((long) peak.max()) : "-",
                    Sizes.format(rs.getFirst().get("hostBudget").longValue()),
                    series("w", rs, "waitFraction").median(), series("a", rs, "prefetchAccuracy").median(),
                    series("c", rs, "cancelled").median(),
                    Sizes.format(rs.stream().mapToLong(x -> x.get("diskBytesIn").longValue()).max().orElse(0)));
        }
        out.println();
        out.println("tok/s: decode after the first token; missed/tok: demand misses x expert size per decoded"
                + " token (the issue's column: a correct prefetch lowers it although its bytes still cross the disk);"
                + " needed/tok: bytes of the experts routed that were not resident in host memory when their layer's"
                + " routing was known (what any prefetcher must read); bound / bound(n) / bound(r): raw / missed, raw"
                + " / needed and raw / read per token (tok/s), and the fraction of each"
                + " reached (a prefetch hit is not a miss but its bytes were read too); read/tok: all bytes paged into host (prefetch included); page-in/s: those bytes / wall"
                + " time with a read in flight; peak mem: the cgroup's"
                + " peak charge (anonymous + page cache); wait: fraction of decode time waiting for experts; pf acc:"
                + " prefetch accuracy; cancel: wrong guesses dropped before all their bytes were read;"
                + " disk wr: bytes written to the disk cache.");
    }

    private static Interleaved.Result series(String name, List<Map<String, Double>> rs, String key) {
        return new Interleaved.Result(name, rs.stream().mapToDouble(x -> x.getOrDefault(key, 0.0)).toArray());
    }

    private Map<String, Double> runChild(Path m, String mode, long limit, Cgroup cg, PrintWriter out)
            throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx" + (Sizes.parse(heap) >> 20) + "m",
                "-XX:+UseParallelGC", "-XX:MaxDirectMemorySize=64m", "--add-modules=jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                StrataCli.class.getName(), "bench", "paging", "--child", "--model", m.toString(), "--read-mode", mode,
                "--tokens", Integer.toString(tokens)));
        if (threads != null) {
            cmd.add("--threads");
            cmd.add(threads.toString());
        }
        Path group = null;
        if (cg != null) {
            group = cg.create(limit);
            List<String> wrapped = new ArrayList<>(List.of("/bin/sh", "-c",
                    "echo $$ > \"$0\" && exec \"$@\"", group.resolve("cgroup.procs").toString()));
            wrapped.addAll(cmd);
            cmd = wrapped;
        }
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            Map<String, Double> res = null;
            StringBuilder log = new StringBuilder();
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    if (line.startsWith("RESULT ")) {
                        res = new LinkedHashMap<>();
                        for (String kv : line.substring(7).trim().split(" ")) {
                            String[] f = kv.split("=", 2);
                            res.put(f[0], Double.parseDouble(f[1]));
                        }
                    } else {
                        log.append(line).append('\n');
                        if (line.startsWith("fit: ")) {
                            out.println("  child " + line);
                        }
                    }
                }
            }
            int rc = p.waitFor();
            if (cg != null) {
                long peak = cg.peak(group);
                if (res != null && peak > 0) {
                    res.put("cgroupPeak", (double) peak);
                }
                if (rc != 0 && cg.oomKilled(group)) {
                    throw new IllegalStateException("the decoding child (" + mode + ") was OOM-killed in its "
                            + Sizes.format(limit) + " cgroup (peak " + Sizes.format(peak) + "):\n" + tail(log));
                }
            }
            if (rc != 0 || res == null) {
                throw new IllegalStateException("the decoding child (" + mode + ") exited " + rc + ":\n" + tail(log));
            }
            return res;
        } finally {
            if (cg != null) {
                cg.remove(group);
            }
        }
    }

    private static String tail(StringBuilder log) {
        String s = log.toString();
        return s.length() > 4000 ? s.substring(s.length() - 4000) : s;
    }

    /** Bytes/s reading every shard front to back: {@code streams} readers each on its own stretch. */
    static double rawRead(Path m, Manifest man, int streams, boolean direct) throws Exception {
        long request = 16L << 20;
        List<long[]> jobs = new ArrayList<>(); // shard, offset, length
        for (ShardInfo s : man.shards()) {
            for (long off = 0; off < s.size(); off += request) {
                jobs.add(new long[]{s.index(), off, Math.min(request, s.size() - off)});
            }
        }
        ExecutorService pool = Executors.newFixedThreadPool(streams);
        FileChannel[] chans = new FileChannel[man.shards().size()];
        try {
            for (ShardInfo s : man.shards()) {
                chans[s.index()] = direct ? FileChannel.open(m.resolve(s.filename()), StandardOpenOption.READ,
                        com.sun.nio.file.ExtendedOpenOption.DIRECT)
                        : FileChannel.open(m.resolve(s.filename()), StandardOpenOption.READ);
            }
            long t0 = System.nanoTime();
            List<Future<Long>> fs = new ArrayList<>();
            for (int t = 0; t < streams; t++) {
                int me = t;
                fs.add(pool.submit(() -> {
                    long n = 0;
                    try (Arena a = Arena.ofConfined()) {
                        MemorySegment buf = a.allocate(request, 4096);
                        for (int j = me * jobs.size() / streams; j < (me + 1) * jobs.size() / streams; j++) {
                            long[] job = jobs.get(j);
                            long len = direct ? (job[2] + 4095) / 4096 * 4096 : job[2];
                            ByteBuffer bb = buf.asSlice(0, len).asByteBuffer();
                            while (bb.hasRemaining()) {
                                int k = chans[(int) job[0]].read(bb, job[1] + bb.position());
                                if (k <= 0) {
                                    break;
                                }
                                n += k;
                                if (direct && bb.position() % 4096 != 0) {
                                    break; // the file's unaligned end
                                }
                            }
                        }
                    }
                    return n;
                }));
            }
            long bytes = 0;
            for (Future<Long> f : fs) {
                bytes += f.get();
            }
            return bytes * 1e9 / (System.nanoTime() - t0);
        } finally {
            pool.shutdownNow();
            for (FileChannel c : chans) {
                if (c != null) {
                    c.close();
                }
            }
        }
    }

    static boolean canDropCaches() {
        Path p = Path.of("/proc/sys/vm/drop_caches");
        return Files.isWritable(p);
    }

    static void drop(Path m, Manifest man, boolean all) throws IOException {
        if (all) {
            try {
                Files.writeString(Path.of("/proc/sys/vm/drop_caches"), "1");
                return;
            } catch (IOException e) {
                // fall back to the files alone
            }
        }
        for (ShardInfo s : man.shards()) {
            PageCacheControl.evict(m.resolve(s.filename()));
        }
    }

    static String loadavg() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (IOException e) {
            return "unknown";
        }
    }

    /** The memory controller this process may create child groups in, v2 or v1. */
    record Cgroup(Path parent, boolean v2) {
        static Cgroup find() {
            Path v2 = Path.of("/sys/fs/cgroup");
            try {
                if (Files.exists(v2.resolve("cgroup.controllers"))
                        && Files.readString(v2.resolve("cgroup.controllers")).contains("memory")
                        && Files.isWritable(v2)) {
                    return new Cgroup(v2, true);
                }
            } catch (IOException e) {
                // try v1
            }
            Path v1 = Path.of("/sys/fs/cgroup/memory");
            if (Files.exists(v1.resolve("memory.limit_in_bytes")) && Files.isWritable(v1)) {
                return new Cgroup(v1, false);
            }
            return null;
        }

        static String whyNot() {
            return Files.isWritable(Path.of("/sys/fs/cgroup")) ? "no memory controller found"
                    : "/sys/fs/cgroup is not writable (run as root to confine the child)";
        }

        String describe() {
            return (v2 ? "v2 memory.max" : "v1 memory.limit_in_bytes") + " in a new group under " + parent
                    + " (the child is started by /bin/sh after writing its pid to cgroup.procs)";
        }

        Path create(long limit) throws IOException {
            Path g = parent.resolve("strata-bench-" + ProcessHandle.current().pid());
            Files.createDirectories(g);
            if (v2) {
                Files.writeString(g.resolve("memory.max"), Long.toString(limit));
                if (Files.exists(g.resolve("memory.swap.max"))) {
                    Files.writeString(g.resolve("memory.swap.max"), "0");
                }
            } else {
                Files.writeString(g.resolve("memory.limit_in_bytes"), Long.toString(limit));
                if (Files.exists(g.resolve("memory.memsw.limit_in_bytes"))) {
                    try {
                        Files.writeString(g.resolve("memory.memsw.limit_in_bytes"), Long.toString(limit));
                    } catch (IOException ignored) {
                        // no swap accounting
                    }
                }
            }
            return g;
        }

        long peak(Path g) {
            try {
                return Long.parseLong(Files.readString(g.resolve(v2 ? "memory.peak" : "memory.max_usage_in_bytes"))
                        .trim());
            } catch (IOException | RuntimeException e) {
                return -1;
            }
        }

        boolean oomKilled(Path g) {
            try {
                String s = Files.readString(g.resolve(v2 ? "memory.events" : "memory.oom_control"));
                for (String line : s.split("\n")) {
                    String[] f = line.trim().split("\\s+");
                    if (f.length == 2 && f[0].equals("oom_kill") && Long.parseLong(f[1]) > 0) {
                        return true;
                    }
                }
                return !v2 && Long.parseLong(Files.readString(g.resolve("memory.failcnt")).trim()) > 0;
            } catch (IOException | RuntimeException e) {
                return false;
            }
        }

        void remove(Path g) {
            for (int i = 0; i < 50; i++) {
                try {
                    Files.deleteIfExists(g);
                    return;
                } catch (IOException e) {
                    Thread.onSpinWait(); // the child's last task may still be leaving the group
                }
            }
        }
    }

    // ---------------------------------------------------------------- child

    private int child() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        MemoryFit fit = MemoryFit.measure();
        out.println("fit: " + fit.describe());
        out.flush();
        Path cache = Files.createTempDirectory("strata-bench-paging-cache-");
        String[] variant = readMode.split("/");
        List<String> flags = List.of(variant).subList(1, variant.length);
        RuntimeOptions o = RuntimeOptions.builder().hostBudget(fit.hostBudget()).cacheDir(cache)
                .readMode(ReadMode.parse(variant[0])).frequencyPrefetch(flags.contains("freq") || (!flags.contains("nofreq")
                        && RuntimeOptions.builder().build().frequencyPrefetch()))
                .prioritizeReads(!flags.contains("fifo")).arrivalOrder(!flags.contains("fixed")).build();
        DecoderOptions dec = threads == null ? DecoderOptions.defaults() : DecoderOptions.defaults().withThreads(threads);
        dec = dec.withSpeculativePrefetch(!flags.contains("nospec"));
        try (ModelRuntime rt = ModelRuntime.open(model, o)) {
            Generator.run(rt, new GenerationRequest(model, WARMUP_PROMPT, 4, o, null, Sampler.greedy(), dec),
                    StepListener.NONE);
            // decode is measured from the first sampled token on (it comes out of the prompt pass), as tok/s is
            TelemetrySnapshot[] before = new TelemetrySnapshot[1];
            long[] busy0 = new long[1];
            long[] needed0 = new long[1];
            StepListener mark = step -> {
                if (before[0] == null && step.sampled() >= 0) {
                    before[0] = rt.telemetry();
                    needed0[0] = rt.neededBytes();
                    busy0[0] = rt.pageInBusyNanos(Tier.HOST);
                }
            };
            GenerationResult r = Generator.run(rt, new GenerationRequest(model, PROMPT, tokens, o, null,
                    Sampler.greedy(), dec), mark);
            TelemetrySnapshot after = rt.telemetry();
            long busy = rt.pageInBusyNanos(Tier.HOST) - busy0[0];
            TierStats h0 = before[0].tier(Tier.HOST);
            TierStats h1 = after.tier(Tier.HOST);
            double decoded = Math.max(1, r.generated().size() - 1);
            long bytesIn = h1.bytesIn() - h0.bytesIn();
            long misses = h1.misses() - h0.misses();
            TierStats disk = after.tiers().get(Tier.DISK);
            out.printf(Locale.ROOT, "RESULT tokps=%.4f missedPerToken=%.1f readPerToken=%.1f pageInBps=%.1f"
                            + " waitFraction=%.4f hostBudget=%d hostHighWater=%d diskBytesIn=%d rssAnon=%d vmHwm=%d"
                            + " decoded=%.0f prefetchAccuracy=%.4f neededPerToken=%.1f cancelled=%d%n", r.decodeTokensPerSecond(),
                    misses * r.expertBytes() / decoded, bytesIn / decoded,
                    busy == 0 ? 0 : bytesIn * 1e9 / busy, (double) r.expertWaitNanos() / Math.max(1, r.decodeNanos()),
                    fit.hostBudget(), h1.highWater(), disk == null ? 0 : disk.bytesIn(), status("RssAnon"),
                    status("VmHWM"), decoded, after.prefetch().accuracy(), (rt.neededBytes() - needed0[0]) / decoded,
                    after.prefetch().cancelled() - before[0].prefetch().cancelled());
        } finally {
            FileTrees.delete(cache);
        }
        out.flush();
        return 0;
    }

    /** A {@code /proc/self/status} field in bytes, or -1. */
    static long status(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(field + ":")) {
                    return Long.parseLong(line.substring(field.length() + 1).trim().split("\\s+")[0]) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return -1;
    }
}
