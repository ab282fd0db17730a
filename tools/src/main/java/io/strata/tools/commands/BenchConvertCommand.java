package io.strata.tools.commands;

import io.strata.core.model.DType;
import io.strata.core.model.Layout;
import io.strata.core.model.ModelFamily;
import io.strata.core.util.Sizes;
import io.strata.storage.convert.ConvertOptions;
import io.strata.storage.convert.ProgressListener;
import io.strata.storage.convert.ShardConverter;
import io.strata.storage.fs.FileTrees;
import io.strata.storage.synth.SyntheticCheckpoint;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code strata bench convert}: conversion throughput against a plain sequential copy of the same bytes, both
 * measured in the same run on a synthetic checkpoint generated on the fly (and deleted afterwards).
 */
@Command(name = "convert", mixinStandardHelpOptions = true, sortOptions = false,
        headerHeading = "%n", header = "Benchmark shard-convert against a plain sequential copy of the same bytes.",
        synopsisHeading = "%nSYNOPSIS%n  ",
        descriptionHeading = "%nDESCRIPTION%n",
        description = {
                "  Generates a synthetic Mixtral-style checkpoint (or, with --gguf TYPE, a",
                "  GGUF file with fused experts of that ggml type) of at least --size bytes",
                "  in a temporary directory, then alternates, --rounds times: (1) a plain",
                "  sequential copy of its safetensors files through an 8 MiB buffer (read +",
                "  write, no processing), (2) shard-convert of the same checkpoint (plan,",
                "  copy/transpose, write, BLAKE3 chunk, shard and group hashes). Reports",
                "  MB/s of tensor bytes for each and the ratio convert/copy. The source is",
                "  fresh from generation, so the page cache is warm for both. Everything is",
                "  deleted at the end."},
        optionListHeading = "%nOPTIONS%n",
        footerHeading = "%nEXAMPLE%n",
        footer = {"  strata bench convert --size 1GiB --layout column --tp 2",
                "  strata bench convert --size 512MiB --gguf Q4_K --layout row"})
public final class BenchConvertCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--size", paramLabel = "SIZE", defaultValue = "1GiB",
            description = "Minimum checkpoint size. Default: ${DEFAULT-VALUE}.")
    String size;

    @Option(names = "--dtype", paramLabel = "F32|BF16|F16", defaultValue = "BF16",
            description = "Checkpoint dtype. Default: ${DEFAULT-VALUE}.")
    DType dtype;

    @Option(names = "--layout", paramLabel = "row|column", defaultValue = "column",
            description = "Conversion layout. Default: ${DEFAULT-VALUE}.")
    String layout;

    @Option(names = "--tp", paramLabel = "N", defaultValue = "1", description = "TP degree. Default: ${DEFAULT-VALUE}.")
    int tp;

    @Option(names = "--shard-size", paramLabel = "SIZE", defaultValue = "64MiB",
            description = "Shard size. Default: ${DEFAULT-VALUE}.")
    String shardSize;

    @Option(names = "--fused", paramLabel = "none|hf|gpt_oss", defaultValue = "none",
            description = "Write the experts as fused tensors (Hugging Face's gate_up_proj, or GPT-OSS's interleaved"
                    + " x @ W layout) that the converter splits per expert. Default: ${DEFAULT-VALUE}.")
    String fused;

    @Option(names = "--gguf", paramLabel = "TYPE",
            description = "Generate a GGUF file instead (Mixtral-shaped, fused blk.N.ffn_*_exps tensors of this ggml"
                    + " type, e.g. Q4_K, Q8_0; random blocks, never decoded) and convert it (use --layout row).")
    DType gguf;

    @Option(names = "--rounds", paramLabel = "N", defaultValue = "2",
            description = "Copy/convert rounds; the best of each is reported. Default: ${DEFAULT-VALUE}.")
    int rounds;

    @Option(names = "--dir", paramLabel = "DIR", description = "Where to put the temporary files (default: java.io.tmpdir).")
    Path dir;

    @Override
    public Integer call() throws Exception {
        PrintWriter o = spec.commandLine().getOut();
        long target = ShardConvertCommand.size("--size", size);
        Layout l = ShardConvertCommand.layout(layout);
        Path base = Files.createTempDirectory(dir == null ? Path.of(System.getProperty("java.io.tmpdir")) : dir,
                "strata-bench-convert-");
        try {
            Path src;
            List<Path> files;
            long bytes;
            if (gguf != null) {
                src = base.resolve("src.gguf");
                long g0 = System.nanoTime();
                int layers = writeGguf(src, gguf, target);
                files = List.of(src);
                bytes = Files.size(src);
                o.printf(Locale.ROOT, "checkpoint: GGUF, %d layers of 8 fused %s experts (1024 x 2048), %s,"
                        + " generated in %.1f s%n", layers, gguf, Sizes.format(bytes), (System.nanoTime() - g0) / 1e9);
            } else {
                // hidden 1024, 8 experts of 1024 x 2048: 96 MiB of experts per BF16 layer
                SyntheticCheckpoint.Builder b = SyntheticCheckpoint.builder().family(ModelFamily.MIXTRAL).dtype(dtype)
                        .hidden(1024).intermediate(2048).heads(8).kvHeads(2).headDim(128).experts(8).topK(2)
                        .vocab(32000).shards(4).layers(1).routerSkew(1).fused(fused(fused));
                int layers = 1;
                while (b.tensorBytes() < target) {
                    b.layers(++layers);
                }
                src = base.resolve("src");
                long g0 = System.nanoTime();
                SyntheticCheckpoint.Result ckpt = b.write(src);
                double genSecs = (System.nanoTime() - g0) / 1e9;
                files = ckpt.files();
                bytes = ckpt.tensorBytes();
                o.printf(Locale.ROOT, "checkpoint: %d layers, %s of %s tensors in %d files (experts fused: %s),"
                        + " generated in %.1f s%n", layers, Sizes.format(bytes), dtype, files.size(),
                        fused.toLowerCase(Locale.ROOT), genSecs);
            }
            o.flush();
            ConvertOptions opts = new ConvertOptions(l, tp, ShardConvertCommand.size("--shard-size", shardSize),
                    ConvertOptions.DEFAULT_CHUNK_SIZE, "bench", true);
            timed(() -> hashAll(files)); // the first pass also warms up the JIT-compiled hash
            double hashSecs = timed(() -> hashAll(files));
            o.printf(Locale.ROOT, "context: one BLAKE3 pass over the same bytes (all cores) %.0f MB/s;"
                    + " the converter hashes expert bytes about 3 times (chunks, whole shard, group)%n",
                    bytes / hashSecs / 1e6);
            double bestCopy = Double.MAX_VALUE;
            double bestConv = Double.MAX_VALUE;
            for (int r = 1; r <= rounds; r++) {
                Path copy = base.resolve("copy");
                double c = timed(() -> copyAll(files, copy));
                delete(copy);
                Path out = base.resolve("out");
                double v = timed(() -> ShardConverter.convert(src, out, opts, ProgressListener.NONE));
                delete(out);
                o.printf(Locale.ROOT, "round %d: copy %.2f s (%.0f MB/s), convert %.2f s (%.0f MB/s)%n",
                        r, c, bytes / c / 1e6, v, bytes / v / 1e6);
                o.flush();
                bestCopy = Math.min(bestCopy, c);
                bestConv = Math.min(bestConv, v);
            }
            o.printf(Locale.ROOT, "best: copy %.0f MB/s, convert (layout %s, tp %d) %.0f MB/s, ratio convert/copy %.2f"
                            + " (%d cores, page cache warm)%n", bytes / bestCopy / 1e6, l.json(), tp,
                    bytes / bestConv / 1e6, bestCopy / bestConv, Runtime.getRuntime().availableProcessors());
            o.flush();
            return 0;
        } finally {
            delete(base);
        }
    }

    /**
     * A Mixtral-shaped GGUF of at least {@code target} bytes: per layer attention and fused experts of {@code type},
     * F32 norms and router. The blocks are random bytes: the converter copies them and never decodes them. One
     * buffer per shape is shared by every layer, so generating takes little memory.
     */
    static int writeGguf(Path file, DType type, long target) {
        long hidden = 1024;
        long ff = 2048;
        long experts = 8;
        long vocab = 32000;
        long perLayer = 3 * type.bytesFor(new long[]{experts, ff, hidden}) + 4 * type.bytesFor(new long[]{hidden, hidden});
        int layers = (int) Math.max(1, (target - 2 * type.bytesFor(new long[]{vocab, hidden}) + perLayer - 1) / perLayer);
        try (Arena arena = Arena.ofConfined()) {
            java.util.Random rnd = new java.util.Random(7);
            java.util.function.Function<long[], MemorySegment> fill = shape -> {
                MemorySegment m = arena.allocate(type.bytesFor(shape), 64);
                byte[] chunk = new byte[1 << 16];
                for (long off = 0; off < m.byteSize(); off += chunk.length) {
                    rnd.nextBytes(chunk);
                    MemorySegment.copy(chunk, 0, m, ValueLayout.JAVA_BYTE, off, (int) Math.min(chunk.length, m.byteSize() - off));
                }
                return m;
            };
            MemorySegment embd = fill.apply(new long[]{vocab, hidden});
            MemorySegment attn = fill.apply(new long[]{hidden, hidden});
            MemorySegment gate = fill.apply(new long[]{experts, ff, hidden});
            MemorySegment down = fill.apply(new long[]{experts, hidden, ff});
            MemorySegment norm = arena.allocate(hidden * 4, 64);
            MemorySegment router = arena.allocate(experts * hidden * 4, 64);
            io.strata.storage.gguf.GgufWriter w = new io.strata.storage.gguf.GgufWriter()
                    .putString("general.architecture", "llama")
                    .putUint32("llama.block_count", layers).putUint32("llama.embedding_length", hidden)
                    .putUint32("llama.feed_forward_length", ff).putUint32("llama.attention.head_count", 8)
                    .putUint32("llama.attention.head_count_kv", 8).putUint32("llama.expert_count", experts)
                    .putUint32("llama.expert_used_count", 2).putUint32("llama.vocab_size", vocab)
                    .putFloat32("llama.attention.layer_norm_rms_epsilon", 1e-5f)
                    .tensor("token_embd.weight", type, new long[]{vocab, hidden}, embd)
                    .tensor("output.weight", type, new long[]{vocab, hidden}, embd)
                    .tensor("output_norm.weight", DType.F32, new long[]{hidden}, norm);
            for (int l = 0; l < layers; l++) {
                String p = "blk." + l + ".";
                w.tensor(p + "attn_norm.weight", DType.F32, new long[]{hidden}, norm);
                for (String a : List.of("attn_q", "attn_k", "attn_v", "attn_output")) {
                    w.tensor(p + a + ".weight", type, new long[]{hidden, hidden}, attn);
                }
                w.tensor(p + "ffn_norm.weight", DType.F32, new long[]{hidden}, norm);
                w.tensor(p + "ffn_gate_inp.weight", DType.F32, new long[]{experts, hidden}, router);
                w.tensor(p + "ffn_gate_exps.weight", type, new long[]{experts, ff, hidden}, gate);
                w.tensor(p + "ffn_up_exps.weight", type, new long[]{experts, ff, hidden}, gate);
                w.tensor(p + "ffn_down_exps.weight", type, new long[]{experts, hidden, ff}, down);
            }
            w.write(file);
        }
        return layers;
    }

    static SyntheticCheckpoint.Fused fused(String text) {
        return switch (text.toLowerCase(Locale.ROOT)) {
            case "none" -> SyntheticCheckpoint.Fused.NONE;
            case "hf" -> SyntheticCheckpoint.Fused.HF;
            case "gpt_oss", "gpt-oss" -> SyntheticCheckpoint.Fused.GPT_OSS;
            default -> throw new IllegalArgumentException("--fused: '" + text + "' is not none, hf or gpt_oss");
        };
    }

    private interface Job {
        void run() throws Exception;
    }

    private static double timed(Job j) throws Exception {
        long t0 = System.nanoTime();
        j.run();
        return (System.nanoTime() - t0) / 1e9;
    }

    /** The baseline: read each file sequentially and write it out, through one 8 MiB direct buffer. */
    static void copyAll(List<Path> files, Path outDir) throws IOException {
        Files.createDirectories(outDir);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(8 << 20, 4096);
            ByteBuffer buf = seg.asByteBuffer();
            for (Path f : files) {
                try (FileChannel in = FileChannel.open(f, StandardOpenOption.READ);
                     FileChannel out = FileChannel.open(outDir.resolve(f.getFileName()), StandardOpenOption.CREATE_NEW,
                             StandardOpenOption.WRITE)) {
                    while (true) {
                        buf.clear();
                        if (in.read(buf) < 0) {
                            break;
                        }
                        buf.flip();
                        while (buf.hasRemaining()) {
                            out.write(buf);
                        }
                    }
                }
            }
        }
    }

    private static void hashAll(List<Path> files) throws IOException {
        for (Path f : files) {
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ); Arena arena = Arena.ofShared()) {
                io.strata.core.hash.Blake3.hash(ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena));
            }
        }
    }

    static void delete(Path p) throws IOException {
        FileTrees.delete(p);
    }

}
