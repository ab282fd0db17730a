package io.strata.tools.commands;

import io.strata.core.model.DType;
import io.strata.core.model.ExpertProjection;
import io.strata.core.model.ModelFamily;
import io.strata.core.model.ModelTensor;
import io.strata.core.util.Sizes;
import io.strata.core.weights.InMemoryWeightSource;
import io.strata.core.weights.TensorView;
import io.strata.kernels.cpu.ComputePeak;
import io.strata.kernels.cpu.CpuKernels;
import io.strata.kernels.cpu.CpuTopology;
import io.strata.kernels.cpu.FloatCodec;
import io.strata.kernels.cpu.NativeKQuantInt8;
import io.strata.kernels.cpu.WorkerTeam;
import io.strata.kernels.decoder.DecoderOptions;
import io.strata.kernels.decoder.ModelConfig;
import io.strata.kernels.decoder.MoeDecoder;
import io.strata.kernels.decoder.Sampler;
import io.strata.kernels.decoder.Sequence;
import io.strata.kernels.quant.QuantArithmetic;
import io.strata.kernels.quant.Quantize;
import io.strata.nativeaccess.posix.AnonymousMemory;
import io.strata.storage.fs.FileTrees;
import io.strata.storage.safetensors.CheckpointWeights;
import io.strata.storage.synth.SyntheticCheckpoint;
import io.strata.tools.bench.Interleaved;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code strata bench compute}: how close resident decode comes to the memory-bandwidth bound, and how much a
 * batched prompt gains over decode. A decode step must read every dense weight and the chosen experts once, so
 * tokens/s can never beat (streaming-read bandwidth / bytes of weights per token); the benchmark measures that
 * bandwidth on the model's own bytes in the same run, interleaved round by round with the decode and prefill
 * measurements ({@link Interleaved}), and reports each figure with its spread and the machine's load.
 */
@Command(name = "compute", mixinStandardHelpOptions = true, sortOptions = false,
        headerHeading = "%n", header = "Resident decode against the memory-bandwidth bound, and batched prompt speed.",
        synopsisHeading = "%nSYNOPSIS%n  ",
        descriptionHeading = "%nDESCRIPTION%n",
        description = {
                "  Per --dtypes entry, generates a random-weight Mixtral-layout checkpoint of the given shape",
                "  (default: the 1.1 B-parameter model of the decode issue) into a temporary directory, copies it",
                "  into memory (fully resident, placed as the host tier places weights: a block per expert, huge",
                "  pages from 2 MiB; the files are deleted), and for each --threads count measures, interleaved",
                "  round by round:",
                "  read = a streaming read of every weight byte on that many threads (the bandwidth bound);",
                "  decode = single-token forward passes (short context); prefill = a --prompt-token prompt",
                "  through the batched path; peak = loops of independent multiply-adds on registers, in the",
                "  arithmetic the prompt kernels use (float FMA, or int8 VNNI dot products), on that many threads",
                "  (the compute bound of a prompt). Reports weight bytes read per decode token, the bound = read",
                "  bandwidth / bytes per token, decode tokens/s and its fraction of the bound (per round,",
                "  median [min..max]), prefill tokens/s, its ratio to decode and its fraction of the compute",
                "  bound (peak multiply-adds/s / multiply-adds per token), the load average and this",
                "  process's CPU share (below 1 when other processes hold the cores). With --kernels java,native",
                "  decode and prefill are measured for both CPU kernel implementations (bit-identical results),",
                "  interleaved in the same rounds, one table row each; likewise --arithmetic int8,float for the",
                "  quantised dtypes (llama.cpp's int8 activations, or float activations: different results).",
                "  On two or more threads it also says how decode's parallel loops went: loops per token, the",
                "  share of their items the calling thread ran (above 1/threads when a worker started late or",
                "  was descheduled) and the loops that found a worker parked."},
        optionListHeading = "%nOPTIONS%n",
        footerHeading = "%nEXAMPLE%n",
        footer = "  strata bench compute --dtypes BF16,Q8_0,Q4_K --threads 1,2 --arithmetic int8,float --rounds 5")
public final class BenchComputeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--dtypes", split = ",", paramLabel = "DTYPE", defaultValue = "BF16",
            description = "Weight types, comma-separated: F32, F16, BF16, or a ggml block type (Q8_0, Q4_0, Q4_1, Q5_0,"
                    + " Q5_1, Q4_K, Q5_K, Q6_K: generated in BF16, every matrix but the embedding and the router"
                    + " quantised round-to-nearest in memory), or Q4_K_M (llama.cpp's mix of Q4_K, Q5_K, Q6_K and Q8_0"
                    + " for an 8-expert MoE). Default: ${DEFAULT-VALUE}.")
    List<String> dtypes;

    @Option(names = "--threads", split = ",", paramLabel = "N",
            description = "Compute thread counts to measure. Default: 1 and the physical cores.")
    List<Integer> threads;

    @Option(names = "--kernels", split = ",", paramLabel = "KIND",
            description = "CPU matvec kernels to measure, comma-separated: java, native. Default: the one in use"
                    + " (-Dstrata.kernels / STRATA_KERNELS; auto = native where available).")
    List<String> kernels;

    @Option(names = "--arithmetic", split = ",", paramLabel = "A", defaultValue = "int8",
            description = "Arithmetic of the quantised matvecs to measure, comma-separated: int8 (llama.cpp's, the"
                    + " default), float (exact). Float types ignore it. Default: ${DEFAULT-VALUE}.")
    List<String> arithmetic;

    @Option(names = "--prompt", paramLabel = "N", defaultValue = "128",
            description = "Prompt tokens per prefill measurement. Default: ${DEFAULT-VALUE}.")
    int prompt;

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "1",
            description = "Unrecorded rounds. Default: ${DEFAULT-VALUE}.")
    int warmup;

    @Option(names = "--rounds", paramLabel = "N", defaultValue = "5",
            description = "Recorded rounds. Default: ${DEFAULT-VALUE}.")
    int rounds;

    @Option(names = "--time", paramLabel = "SECONDS", defaultValue = "2",
            description = "Least seconds per measurement. Default: ${DEFAULT-VALUE}.")
    double seconds;

    @Option(names = "--dir", paramLabel = "DIR",
            description = "Where to write the temporary checkpoint. Default: the system temporary directory.")
    Path dir;

    @Option(names = "--hidden", defaultValue = "1024", description = "Hidden size. Default: ${DEFAULT-VALUE}.")
    int hidden;
    @Option(names = "--ffn", defaultValue = "3584", description = "Expert FFN size. Default: ${DEFAULT-VALUE}.")
    int ffn;
    @Option(names = "--layers", defaultValue = "12", description = "Layers. Default: ${DEFAULT-VALUE}.")
    int layers;
    @Option(names = "--experts", defaultValue = "8", description = "Experts per layer. Default: ${DEFAULT-VALUE}.")
    int experts;
    @Option(names = "--top-k", defaultValue = "2", description = "Experts per token. Default: ${DEFAULT-VALUE}.")
    int topK;
    @Option(names = "--heads", defaultValue = "8", description = "Attention heads. Default: ${DEFAULT-VALUE}.")
    int heads;
    @Option(names = "--kv-heads", defaultValue = "2", description = "KV heads. Default: ${DEFAULT-VALUE}.")
    int kvHeads;
    @Option(names = "--head-dim", defaultValue = "128", description = "Head dimension. Default: ${DEFAULT-VALUE}.")
    int headDim;
    @Option(names = "--vocab", defaultValue = "8192", description = "Vocabulary. Default: ${DEFAULT-VALUE}.")
    int vocab;

    private static final Sampler GREEDY = Sampler.greedy();
    /** Multiply-add iterations per peak measurement call (12 vectors each): a few milliseconds. */
    private static final long PEAK_ITERATIONS = 1 << 18;
    /** "label: N" multiply-adds per token of each measured model, for the footnote. */
    private final List<String> macs = new ArrayList<>();
    /** Block types a model can be quantised to here: the ones with a matvec kernel in kernels.quant. */
    private static final List<DType> QUANTISED = List.of(DType.Q8_0, DType.Q4_0, DType.Q4_1, DType.Q5_0, DType.Q5_1,
            DType.Q4_K, DType.Q5_K, DType.Q6_K);
    private static long blackhole;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        List<Target> types = parseTypes();
        List<Integer> counts = threads != null ? threads : defaultThreads();
        List<CpuKernels> kinds = parseKernels();
        List<QuantArithmetic> ariths = new ArrayList<>();
        for (String a : arithmetic) {
            QuantArithmetic q = QuantArithmetic.parse(a).orElseThrow(() -> new CommandLine.ParameterException(
                    spec.commandLine(), "--arithmetic: '" + a + "' is not int8 or float"));
            if (!ariths.contains(q)) {
                ariths.add(q);
            }
        }
        if (counts.stream().anyMatch(t -> t < 1) || prompt < 1 || rounds < 1 || warmup < 0 || seconds <= 0) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--threads, --prompt and --rounds must be positive, --warmup >= 0, --time > 0");
        }
        Path root = Files.createTempDirectory(dir != null ? Files.createDirectories(dir) : Path.of(
                System.getProperty("java.io.tmpdir")), "strata-bench-compute-");
        try {
            out.printf(Locale.ROOT, "model: Mixtral layout, hidden %d, FFN %d, %d layers, %d experts top-%d, %d/%d heads"
                            + " x %d, vocab %d; %d physical cores, %d processors available%n", hidden, ffn, layers,
                    experts, topK, heads, kvHeads, headDim, vocab, CpuTopology.physicalCores(),
                    Runtime.getRuntime().availableProcessors());
            out.printf(Locale.ROOT, "kernels: %s%n", CpuKernels.describe());
            List<String> rows = new ArrayList<>();
            macs.clear();
            CpuKernels was = CpuKernels.active();
            try {
                for (Target t : types) {
                    List<QuantArithmetic> as = t.base().isQuantized() ? ariths : List.of(QuantArithmetic.FLOAT);
                    rows.addAll(measure(t, counts, kinds, as, root.resolve(t.label().toLowerCase(Locale.ROOT)), out));
                }
            } finally {
                CpuKernels.use(was);
            }
            out.printf(Locale.ROOT, "%n%-6s %3s %-6s %-5s %22s %10s %9s %22s %19s %22s %9s %10s %8s%n", "dtype", "thr",
                    "kernel", "arith", "read GB/s", "B/token", "bound t/s", "decode tok/s", "of bound", "prefill tok/s",
                    "pre/dec", "peak t/s", "of peak");
            rows.forEach(out::println);
            out.printf(Locale.ROOT, "(median of %d rounds [min..max]; of bound, pre/dec and of peak are per-round ratios;"
                    + " peak t/s = the compute bound of a prompt: peak multiply-adds/s (float FMA, or int8 VNNI for"
                    + " the int8 arithmetic) / %s multiply-adds per token (weights; attention's few not counted))%n",
                    rounds, macs.isEmpty() ? "the" : String.join(", ", macs));
            if (NativeKQuantInt8.tiles()) {
                out.printf(Locale.ROOT, "(native int8: K-quant prompt matvecs of %d or more positions ran on the AMX"
                        + " tile unit, whose peak the int8 VNNI peak does not count; -D%s=false keeps them on VNNI)%n",
                        NativeKQuantInt8.TILES_MIN, NativeKQuantInt8.TILES_PROPERTY);
            }
        } finally {
            FileTrees.delete(root);
        }
        out.flush();
        return 0;
    }

    /**
     * What a model is quantised to: one dtype for every matrix, or llama.cpp's Q4_K_M mix (label Q4_K_M, base
     * Q4_K), which promotes some tensors to other types, as llama.cpp's own Q4_K_M file of an 8-expert Mixtral
     * in testdata shows it does: output Q6_K; attn_k and attn_v Q8_0 (eight experts); attn_output Q5_K; attn_q,
     * ffn_gate_exps and ffn_up_exps Q4_K; ffn_down_exps Q6_K in the layers llama.cpp's use_more_bits picks (the
     * first and last eighth, and every third between), else Q4_K.
     */
    record Target(String label, DType base, boolean q4kM) {
        DType typeOf(String name, ModelConfig c) {
            if (!q4kM) {
                return base;
            }
            ModelFamily f = c.family();
            int layers = c.numLayers();
            if (name.equals(f.tensorName(ModelTensor.LM_HEAD, 0))) {
                return DType.Q6_K;
            }
            for (int l = 0; l < layers; l++) {
                if (name.equals(f.tensorName(ModelTensor.ATTN_K, l)) || name.equals(f.tensorName(ModelTensor.ATTN_V, l))) {
                    return DType.Q8_0;
                }
                if (name.equals(f.tensorName(ModelTensor.ATTN_O, l))) {
                    return DType.Q5_K;
                }
                boolean more = l < layers / 8 || l >= 7 * layers / 8 || (l - layers / 8) % 3 == 2;
                for (int e = 0; more && e < c.numExperts(); e++) {
                    if (name.equals(f.expertTensorName(l, e, ExpertProjection.DOWN))) {
                        return DType.Q6_K;
                    }
                }
            }
            return base;
        }
    }

    private List<Target> parseTypes() {
        List<Target> types = new ArrayList<>();
        for (String d : dtypes) {
            if (d.trim().equalsIgnoreCase("Q4_K_M")) {
                types.add(new Target("Q4_K_M", DType.Q4_K, true));
                continue;
            }
            DType t = DType.parse(d).filter(x -> x == DType.F32 || x == DType.F16 || x == DType.BF16
                            || QUANTISED.contains(x))
                    .orElseThrow(() -> new CommandLine.ParameterException(spec.commandLine(),
                            "--dtypes: '" + d + "' is not one of F32, F16, BF16, Q4_K_M, " + QUANTISED));
            types.add(new Target(t.name(), t, false));
        }
        return types;
    }

    private List<CpuKernels> parseKernels() {
        if (kernels == null || kernels.isEmpty()) {
            return List.of(CpuKernels.active());
        }
        List<CpuKernels> kinds = new ArrayList<>();
        for (String k : kernels) {
            CpuKernels kind = switch (k.trim().toLowerCase(Locale.ROOT)) {
                case "java" -> CpuKernels.JAVA;
                case "native" -> CpuKernels.NATIVE;
                default -> throw new CommandLine.ParameterException(spec.commandLine(),
                        "--kernels: '" + k + "' is not java or native");
            };
            if (kind == CpuKernels.NATIVE && CpuKernels.nativeUnavailable().isPresent()) {
                throw new CommandLine.ParameterException(spec.commandLine(),
                        "--kernels: native kernels unavailable: " + CpuKernels.nativeUnavailable().get());
            }
            if (!kinds.contains(kind)) {
                kinds.add(kind);
            }
        }
        return kinds;
    }

    private static List<Integer> defaultThreads() {
        int cores = CpuTopology.physicalCores();
        return cores == 1 ? List.of(1) : List.of(1, cores);
    }

    /** One dtype: generate, map, measure every thread count interleaved; returns the table rows. */
    private List<String> measure(Target target, List<Integer> counts, List<CpuKernels> kinds,
                                 List<QuantArithmetic> ariths, Path ckpt, PrintWriter out)
            throws IOException {
        // a quantised model is generated in BF16 and its matrices quantised in memory (round to nearest)
        DType dtype = target.base();
        DType stored = dtype.isQuantized() ? DType.BF16 : dtype;
        SyntheticCheckpoint.Builder b = SyntheticCheckpoint.builder().family(ModelFamily.MIXTRAL).dtype(stored)
                .hidden(hidden).intermediate(ffn).layers(layers).heads(heads).kvHeads(kvHeads).headDim(headDim)
                .experts(experts).topK(topK).vocab(vocab).shards(1).seed(15);
        out.printf(Locale.ROOT, "%n%s: writing %s of weights to %s ...%n", target.label(), Sizes.format(b.tensorBytes()), ckpt);
        out.flush();
        long t0 = System.nanoTime();
        b.write(ckpt);
        List<String> rows = new ArrayList<>();
        try (Arena arena = Arena.ofShared()) {
            InMemoryWeightSource w = resident(ckpt, arena, target);
            FileTrees.delete(ckpt);
            List<MemorySegment> pieces = pieces(w.tensors().values());
            long modelBytes = pieces.stream().mapToLong(MemorySegment::byteSize).sum();
            double cpu0 = processCpuSeconds();
            long wall0 = System.nanoTime();
            out.printf(Locale.ROOT, "  written in %.1f s; load average %s; measuring ...%n", (System.nanoTime() - t0) / 1e9,
                    loadAverage());
            out.flush();
            List<Interleaved.Candidate> cs = new ArrayList<>();
            Map<String, Decoding> decodings = new LinkedHashMap<>();
            long perToken = 0;
            long macsPerToken = 0;
            for (int n : counts) {
                WorkerTeam team = WorkerTeam.shared(n);
                cs.add(new Interleaved.Candidate("read" + n, () -> streamRead(team, pieces, modelBytes)));
                for (ComputePeak.Kind kind : peakKinds(target, ariths)) {
                    cs.add(new Interleaved.Candidate("peak" + n + kind, () -> peak(team, kind)));
                }
                for (QuantArithmetic a : ariths) {
                    MoeDecoder d = new MoeDecoder(w, DecoderOptions.defaults().withThreads(n)
                            .withSpeculativePrefetch(false).withQuantArithmetic(a));
                    perToken = bytesPerToken(d.config(), w);
                    macsPerToken = macsPerToken(d.config(), w);
                    int[] ids = promptIds(prompt, d.config().vocabSize());
                    for (CpuKernels k : kinds) {
                        Decoding dec = new Decoding(d, team);
                        decodings.put(n + "T " + (k + " " + a).toLowerCase(Locale.ROOT), dec);
                        cs.add(new Interleaved.Candidate("decode" + n + k + a, () -> {
                            CpuKernels.use(k);
                            return dec.step();
                        }));
                        cs.add(new Interleaved.Candidate("prefill" + n + k + a, () -> {
                            CpuKernels.use(k);
                            try (Sequence s = d.newSequence()) {
                                blackhole ^= Float.floatToRawIntBits(s.prefill(ids)[0]);
                            }
                            return ids.length;
                        }));
                    }
                }
            }
            Map<String, Interleaved.Result> r = Interleaved.run(cs, warmup, rounds, (long) (seconds * 1e9));
            double share = (processCpuSeconds() - cpu0) / ((System.nanoTime() - wall0) / 1e9)
                    / counts.stream().mapToInt(Integer::intValue).max().orElse(1);
            out.printf(Locale.ROOT, "  done; load average %s; this process had %.2f of its threads' CPU time%n",
                    loadAverage(), share);
            macs.add(target.label() + " " + macsPerToken);
            decodings.forEach((key, dec) -> {
                String line = dec.teamLine("  decode " + target.label() + " " + key);
                if (line != null) {
                    out.println(line);
                }
            });
            for (int n : counts) {
                for (QuantArithmetic a : ariths) {
                    for (CpuKernels k : kinds) {
                        rows.add(row(target, n, k, a, perToken, macsPerToken, r.get("read" + n),
                                r.get("decode" + n + k + a), r.get("prefill" + n + k + a),
                                r.get("peak" + n + peakKind(target, a))));
                    }
                }
            }
        } finally {
            FileTrees.delete(ckpt);
        }
        return rows;
    }

    /** One table row: per-round fractions of the bound and prefill/decode ratios, as medians [min..max]. */
    private String row(Target target, int n, CpuKernels k, QuantArithmetic a, long perToken, long macsPerToken,
                       Interleaved.Result read, Interleaved.Result dec, Interleaved.Result pre,
                       Interleaved.Result peak) {
        double[] ofBound = new double[rounds];
        double[] preDec = new double[rounds];
        double[] ofPeak = new double[rounds];
        for (int i = 0; i < rounds; i++) {
            ofBound[i] = dec.perRound()[i] * perToken / read.perRound()[i];
            preDec[i] = pre.perRound()[i] / dec.perRound()[i];
            ofPeak[i] = peak == null ? Double.NaN : pre.perRound()[i] * macsPerToken / peak.perRound()[i];
        }
        Interleaved.Result fraction = new Interleaved.Result("ofBound", ofBound);
        Interleaved.Result ratio = new Interleaved.Result("preDec", preDec);
        String peakTokens = peak == null ? "-" : String.format(Locale.ROOT, "%.1f", peak.median() / macsPerToken);
        String peakFraction = peak == null ? "-" : String.format(Locale.ROOT, "%.3f",
                new Interleaved.Result("ofPeak", ofPeak).median());
        return String.format(Locale.ROOT, "%-6s %3d %-6s %-5s %22s %10s %9.1f %22s %19s %22s %9.2f %10s %8s",
                target.label(), n, k.name().toLowerCase(Locale.ROOT), target.base().isQuantized() ? a.label() : "-",
                spread(read, 1e-9, "%.1f"), Sizes.format(perToken), read.median() / perToken, spread(dec, 1, "%.2f"),
                spread(fraction, 1, "%.2f"), spread(pre, 1, "%.1f"), ratio.median(), peakTokens, peakFraction);
    }

    /** The multiply-add a prompt's matmuls run on: VNNI int8 for a quantised model in int8, else float FMA. */
    private static ComputePeak.Kind peakKind(Target target, QuantArithmetic a) {
        return target.base().isQuantized() && a == QuantArithmetic.INT8 ? ComputePeak.Kind.INT8 : ComputePeak.Kind.FMA;
    }

    /** The peak kinds the table rows of {@code target} need, those this machine can measure. */
    private static List<ComputePeak.Kind> peakKinds(Target target, List<QuantArithmetic> ariths) {
        List<ComputePeak.Kind> kinds = new ArrayList<>();
        for (QuantArithmetic a : ariths) {
            ComputePeak.Kind kind = peakKind(target, a);
            if (!kinds.contains(kind) && ComputePeak.unavailable(kind).isEmpty()) {
                kinds.add(kind);
            }
        }
        return kinds;
    }

    /** Every thread of the team runs the multiply-add loop; returns the multiply-adds done. */
    private static long peak(WorkerTeam team, ComputePeak.Kind kind) {
        long[] done = new long[team.threads()];
        team.forRange(0, done.length, 1, (a, b) -> {
            for (int i = a; i < b; i++) {
                done[i] = ComputePeak.run(kind, PEAK_ITERATIONS);
            }
        });
        return Arrays.stream(done).sum();
    }

    /**
     * Multiply-adds a token costs in the weights' matrices: rows x columns of every dense matrix (attention,
     * router, lm_head) and of top-k experts of each sparse layer; norms and the embedding lookup are no matmuls.
     */
    static long macsPerToken(ModelConfig c, InMemoryWeightSource w) {
        ModelFamily f = c.family();
        String lmHead = f.tensorName(ModelTensor.LM_HEAD, 0);
        TensorView head = w.hasTensor(lmHead) ? w.dense(lmHead) : w.dense(f.tensorName(ModelTensor.EMBEDDING, 0));
        long macs = head.rows() * head.cols();
        for (int l = 0; l < c.numLayers(); l++) {
            for (ModelTensor t : new ModelTensor[] {ModelTensor.ATTN_Q, ModelTensor.ATTN_K, ModelTensor.ATTN_V,
                    ModelTensor.ATTN_O, ModelTensor.ROUTER}) {
                TensorView m = w.dense(f.tensorName(t, l));
                macs += m.rows() * m.cols();
            }
            long expert = 0;
            for (ExpertProjection p : ExpertProjection.values()) {
                TensorView m = w.dense(f.expertTensorName(l, 0, p));
                expert += m.rows() * m.cols();
            }
            macs += expert * c.expertsPerToken();
        }
        return macs;
    }

    /**
     * The checkpoint's tensors copied into anonymous off-heap memory, placed as the host tier places them: a mapped
     * file is only as resident as the page cache lets it be, and on shared machines its pages come and go. One
     * block per expert (its projections together, as one range read fills a host-tier entry) and one per other
     * tensor, each from {@link AnonymousMemory} as {@code HostMemory} maps it (from 2 MiB on, 2 MiB-aligned on
     * transparent huge pages: on 4 KiB pages the Q4_K decode kernel read about a tenth slower on an Intel Xeon).
     */
    private static InMemoryWeightSource resident(Path ckpt, Arena arena, Target target) {
        try (CheckpointWeights mapped = CheckpointWeights.open(ckpt)) {
            ModelConfig c = ModelConfig.parse(mapped.config());
            ModelFamily f = c.family();
            Set<String> keep = new HashSet<>(); // stay as generated, as in a GGUF: embedding rows, router (F32 there)
            keep.add(f.tensorName(ModelTensor.EMBEDDING, 0));
            for (int l = 0; l < c.numLayers(); l++) {
                keep.add(f.tensorName(ModelTensor.ROUTER, l));
            }
            Map<String, TensorView> all = mapped.tensors();
            Map<String, DType> types = new HashMap<>();
            for (TensorView t : all.values()) {
                DType to = target.typeOf(t.name(), c);
                boolean quantise = to.isQuantized() && t.shape().length == 2 && !keep.contains(t.name())
                        && to.isWholeBlocks(t.cols());
                types.put(t.name(), quantise ? to : t.dtype());
            }
            List<List<String>> blocks = new ArrayList<>();
            Set<String> grouped = new HashSet<>();
            for (int l = 0; l < c.numLayers(); l++) {
                for (int e = 0; e < c.numExperts(); e++) {
                    List<String> names = new ArrayList<>();
                    for (ExpertProjection p : ExpertProjection.values()) {
                        String n = f.expertTensorName(l, e, p);
                        if (all.containsKey(n)) {
                            names.add(n);
                        }
                    }
                    if (!names.isEmpty()) {
                        blocks.add(names);
                        grouped.addAll(names);
                    }
                }
            }
            all.keySet().stream().filter(n -> !grouped.contains(n)).sorted().forEach(n -> blocks.add(List.of(n)));
            Map<String, TensorView> copies = new HashMap<>();
            for (List<String> names : blocks) {
                long[] at = new long[names.size() + 1];
                for (int i = 0; i < names.size(); i++) {
                    TensorView t = all.get(names.get(i));
                    DType to = types.get(t.name());
                    long bytes = to == t.dtype() ? t.data().byteSize()
                            : to.bytesFor(Math.toIntExact(t.cols())) * t.rows();
                    at[i + 1] = (at[i] + bytes + 63) / 64 * 64;
                }
                long size = at[names.size()];
                MemorySegment block = AnonymousMemory.supported() ? AnonymousMemory.map(size, true, arena)
                        : arena.allocate(size, 64);
                for (int i = 0; i < names.size(); i++) {
                    TensorView t = all.get(names.get(i));
                    DType to = types.get(t.name());
                    MemorySegment dst = block.asSlice(at[i], at[i + 1] - at[i]);
                    copies.put(t.name(), to == t.dtype() ? copy(dst, t) : quantised(dst, t, to));
                }
            }
            return new InMemoryWeightSource(mapped.config(), copies);
        }
    }

    private static TensorView copy(MemorySegment dst, TensorView t) {
        MemorySegment m = dst.asSlice(0, t.data().byteSize());
        m.copyFrom(t.data());
        return new TensorView(t.name(), m, t.dtype(), t.shape(), t.layout());
    }

    /** Row by row, so no float copy of a whole matrix is ever held. */
    private static TensorView quantised(MemorySegment dst, TensorView t, DType target) {
        int cols = Math.toIntExact(t.cols());
        long rowBytes = target.bytesFor(cols);
        MemorySegment m = dst.asSlice(0, rowBytes * t.rows());
        float[] row = new float[cols];
        for (long r = 0; r < t.rows(); r++) {
            FloatCodec.decode(t.data(), t.dtype(), r * cols, row, 0, cols);
            Quantize.row(target, row, 0, cols, m, r * rowBytes);
        }
        return new TensorView(t.name(), m, target, t.shape(), t.layout());
    }

    /** Decode steps on a short context: a fresh sequence every 64 positions (its first step counts too). */
    private static final class Decoding {
        private final MoeDecoder decoder;
        private final WorkerTeam team;
        private Sequence seq;
        private int token = 1;
        /** What the team did during this candidate's steps (and nothing else: the other candidates share it). */
        private WorkerTeam.Stats teamStats = new WorkerTeam.Stats(0, 0, 0, 0);
        private long steps;

        Decoding(MoeDecoder decoder, WorkerTeam team) {
            this.decoder = decoder;
            this.team = team;
        }

        long step() {
            if (seq == null || seq.position() >= 64) {
                if (seq != null) {
                    seq.close();
                }
                seq = decoder.newSequence();
            }
            WorkerTeam.Stats before = team.stats();
            token = GREEDY.sample(seq.forward(token));
            teamStats = teamStats.plus(team.stats().minus(before));
            steps++;
            return 1;
        }

        /** One line on the team's loops per decode step, or null for a team of one. */
        String teamLine(String what) {
            WorkerTeam.Stats t = teamStats;
            if (team.threads() < 2 || t.loops() == 0) {
                return null;
            }
            return String.format(Locale.ROOT, "%s: %.0f team loops per token; the calling thread ran %.2f of their items"
                    + " (%.2f if shared evenly); %.1f %% opened with a worker parked", what, (double) t.loops() / steps,
                    (double) t.callerItems() / t.items(), 1.0 / team.threads(), 100.0 * t.parkedAtOpen() / t.loops());
        }
    }

    private static int[] promptIds(int n, int vocab) {
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = (int) ((i * 2654435761L + 17) % vocab);
        }
        return ids;
    }

    /**
     * Bytes of weights a decode step reads: every dense matrix (attention, router, lm_head) and norm, top-k of
     * the experts of each sparse layer, and one embedding row.
     */
    static long bytesPerToken(ModelConfig c, InMemoryWeightSource w) {
        ModelFamily f = c.family();
        long bytes = 0;
        TensorView emb = w.dense(f.tensorName(ModelTensor.EMBEDDING, 0));
        bytes += emb.data().byteSize() / emb.rows();
        String lmHead = f.tensorName(ModelTensor.LM_HEAD, 0);
        bytes += w.hasTensor(lmHead) ? w.dense(lmHead).data().byteSize() : emb.data().byteSize();
        bytes += w.dense(f.tensorName(ModelTensor.FINAL_NORM, 0)).data().byteSize();
        for (int l = 0; l < c.numLayers(); l++) {
            for (ModelTensor t : new ModelTensor[] {ModelTensor.INPUT_NORM, ModelTensor.POST_NORM, ModelTensor.ATTN_Q,
                    ModelTensor.ATTN_K, ModelTensor.ATTN_V, ModelTensor.ATTN_O, ModelTensor.ROUTER}) {
                bytes += w.dense(f.tensorName(t, l)).data().byteSize();
            }
            long expert = 0;
            for (ExpertProjection p : ExpertProjection.values()) {
                expert += w.dense(f.expertTensorName(l, 0, p)).data().byteSize();
            }
            bytes += expert * c.expertsPerToken();
        }
        return bytes;
    }

    /** Every tensor's bytes cut into pieces of at most 1 MiB, for a streaming read split over a team. */
    private static List<MemorySegment> pieces(java.util.Collection<TensorView> tensors) {
        List<MemorySegment> out = new ArrayList<>();
        for (TensorView t : tensors) {
            MemorySegment s = t.data();
            for (long off = 0; off < s.byteSize(); off += 1 << 20) {
                out.add(s.asSlice(off, Math.min(1 << 20, s.byteSize() - off)));
            }
        }
        return out;
    }

    /** Reads every piece once with full-width vector loads, split over the team's threads; returns the bytes. */
    private static long streamRead(WorkerTeam team, List<MemorySegment> pieces, long bytes) {
        long[] sums = new long[pieces.size()];
        team.forRange(0, pieces.size(), 1, (a, b) -> {
            for (int i = a; i < b; i++) {
                sums[i] = BenchHashCommand.plainRead(pieces.get(i));
            }
        });
        blackhole ^= Arrays.stream(sums).sum();
        return bytes;
    }

    private static String spread(Interleaved.Result r, double scale, String fmt) {
        return String.format(Locale.ROOT, fmt + " [" + fmt + ".." + fmt + "]", r.median() * scale, r.min() * scale,
                r.max() * scale);
    }

    private static double processCpuSeconds() {
        var os = ManagementFactory.getOperatingSystemMXBean();
        return os instanceof com.sun.management.OperatingSystemMXBean sun ? sun.getProcessCpuTime() / 1e9 : Double.NaN;
    }

    private static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return String.format(Locale.ROOT, "%.2f", ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        }
    }
}
