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
                "  Generates a synthetic Mixtral-style checkpoint of at least --size bytes",
                "  in a temporary directory, then alternates, --rounds times: (1) a plain",
                "  sequential copy of its safetensors files through an 8 MiB buffer (read +",
                "  write, no processing), (2) shard-convert of the same checkpoint (plan,",
                "  copy/transpose, write, BLAKE3 chunk, shard and group hashes). Reports",
                "  MB/s of tensor bytes for each and the ratio convert/copy. The source is",
                "  fresh from generation, so the page cache is warm for both. Everything is",
                "  deleted at the end."},
        optionListHeading = "%nOPTIONS%n",
        footerHeading = "%nEXAMPLE%n",
        footer = "  strata bench convert --size 1GiB --layout column --tp 2")
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
            // hidden 1024, 8 experts of 1024 x 2048: 96 MiB of experts per BF16 layer
            SyntheticCheckpoint.Builder b = SyntheticCheckpoint.builder().family(ModelFamily.MIXTRAL).dtype(dtype)
                    .hidden(1024).intermediate(2048).heads(8).kvHeads(2).headDim(128).experts(8).topK(2)
                    .vocab(32000).shards(4).layers(1).routerSkew(1).fused(fused(fused));
            int layers = 1;
            while (b.tensorBytes() < target) {
                b.layers(++layers);
            }
            Path src = base.resolve("src");
            long g0 = System.nanoTime();
            SyntheticCheckpoint.Result ckpt = b.write(src);
            double genSecs = (System.nanoTime() - g0) / 1e9;
            long bytes = ckpt.tensorBytes();
            o.printf(Locale.ROOT, "checkpoint: %d layers, %s of %s tensors in %d files (experts fused: %s),"
                    + " generated in %.1f s%n", layers, Sizes.format(bytes), dtype, ckpt.files().size(),
                    fused.toLowerCase(Locale.ROOT), genSecs);
            o.flush();
            ConvertOptions opts = new ConvertOptions(l, tp, ShardConvertCommand.size("--shard-size", shardSize),
                    ConvertOptions.DEFAULT_CHUNK_SIZE, "bench", true);
            timed(() -> hashAll(ckpt.files())); // the first pass also warms up the JIT-compiled hash
            double hashSecs = timed(() -> hashAll(ckpt.files()));
            o.printf(Locale.ROOT, "context: one BLAKE3 pass over the same bytes (all cores) %.0f MB/s;"
                    + " the converter hashes expert bytes about 3 times (chunks, whole shard, group)%n",
                    bytes / hashSecs / 1e6);
            double bestCopy = Double.MAX_VALUE;
            double bestConv = Double.MAX_VALUE;
            for (int r = 1; r <= rounds; r++) {
                Path copy = base.resolve("copy");
                double c = timed(() -> copyAll(ckpt.files(), copy));
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
