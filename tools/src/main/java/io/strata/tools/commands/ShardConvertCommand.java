package io.strata.tools.commands;

import io.strata.core.model.Layout;
import io.strata.core.util.Sizes;
import io.strata.storage.convert.ConvertOptions;
import io.strata.storage.convert.ProgressListener;
import io.strata.storage.convert.ShardConverter;
import io.strata.tools.progress.ConversionProgress;
import io.strata.tools.progress.ProgressBar;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code strata shard-convert}: a Hugging Face safetensors checkpoint or a GGUF file into expert-aligned Strata
 * shards.
 */
@Command(name = "shard-convert", mixinStandardHelpOptions = true, sortOptions = false,
        headerHeading = "%n", header = "Convert a safetensors checkpoint or a GGUF file into expert-aligned, hashed shards.",
        synopsisHeading = "%nSYNOPSIS%n  ",
        descriptionHeading = "%nDESCRIPTION%n",
        description = {
                "  Reads SRC (a Hugging Face checkpoint directory with config.json and",
                "  safetensors files, one .safetensors file, or a llama.cpp .gguf file)",
                "  and writes OUT: shard files",
                "  plus an RDRR-style manifest.json that records every tensor's shard,",
                "  offset, shape, dtype, role and layout, the original config.json, and a",
                "  BLAKE3 hash for every shard and every chunk of a shard.",
                "",
                "  Each expert's tensors (w1, w3, w2 / gate, up, down) are stored",
                "  contiguously in one shard, page-aligned, so the runtime loads an expert",
                "  with one range read; dense tensors are packed into their own shards. No",
                "  tensor straddles shards; an expert group is never split.",
                "",
                "  Fused expert tensors are split per expert: GGUF's blk.N.ffn_*_exps",
                "  (quantised blocks copied as they are, never dequantised; every tensor",
                "  keeps its ggml type and gets its Hugging Face name), Hugging Face's",
                "  experts.gate_up_proj / down_proj and GPT-OSS's interleaved layout. A GGUF",
                "  file's embedded vocabulary is bundled as tokenizer.gguf.",
                "",
                "  With --layout column, 2-D weights are stored transposed ([in, out]);",
                "  with --tp N they are cut into N tensor-parallel slices (q/k/v, w1/w3,",
                "  gate/up along out; o, w2/down along in) so a TP rank loads only its",
                "  slice. Embeddings, lm_head, routers and norms are replicated; the",
                "  embedding table stays row-major so a token's row is one read.",
                "",
                "  The output is deterministic and atomic: it is written to a hidden",
                "  temporary directory and renamed to OUT at the end; on any error nothing",
                "  is left at OUT."},
        parameterListHeading = "%nARGUMENTS%n",
        optionListHeading = "%nOPTIONS%n",
        exitCodeListHeading = "%nEXIT STATUS%n",
        exitCodeList = {"0:converted", "1:error (the message names the file, the tensor and the reason)",
                "2:bad usage"},
        footerHeading = "%nEXAMPLES%n",
        footer = {"  strata shard-convert ./Mixtral-8x7B ./mixtral-strata",
                "  strata shard-convert ./mixtral-8x7b-q4_k_m.gguf ./mixtral-q4",
                "  strata shard-convert ./Qwen3-30B-A3B ./qwen-tp4 --layout column --tp 4 --shard-size 256MiB"})
public final class ShardConvertCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "SRC", description = "Checkpoint directory, .safetensors or .gguf file.")
    Path src;

    @Parameters(index = "1", paramLabel = "OUT", description = "Output directory (must not exist unless --force).")
    Path out;

    @Option(names = "--layout", paramLabel = "row|column", defaultValue = "row",
            description = "Byte order of 2-D weights: as in the checkpoint (row) or transposed (column). Default: ${DEFAULT-VALUE}.")
    String layout;

    @Option(names = "--tp", paramLabel = "N", defaultValue = "1",
            description = "Tensor-parallel degree: cut parallel weights into N slices. Default: ${DEFAULT-VALUE}.")
    int tp;

    @Option(names = "--shard-size", paramLabel = "SIZE", defaultValue = "64MiB",
            description = "Target shard size, e.g. 64MiB, 1GiB. Default: ${DEFAULT-VALUE}.")
    String shardSize;

    @Option(names = "--chunk-size", paramLabel = "SIZE", defaultValue = "1MiB",
            description = "Bytes per chunk hash. Default: ${DEFAULT-VALUE}.")
    String chunkSize;

    @Option(names = "--model-id", paramLabel = "ID", description = "The manifest's modelId (default: SRC's name).")
    String modelId;

    @Option(names = "--force", description = "Replace OUT if it exists (atomically).")
    boolean force;

    @Option(names = {"-q", "--quiet"}, description = "Print nothing but errors.")
    boolean quiet;

    @Option(names = "--progress", description = "Show the progress bar even when not on a terminal.")
    boolean progress;

    @Override
    public Integer call() {
        Layout l = layout(layout);
        ConvertOptions options = new ConvertOptions(l, tp, size("--shard-size", shardSize),
                size("--chunk-size", chunkSize), modelId, force);
        PrintWriter err = spec.commandLine().getErr();
        ProgressListener listener = ProgressBar.wanted(quiet, progress) ? new ConversionProgress(err)
                : ProgressListener.NONE;
        long t0 = System.nanoTime();
        ShardConverter.Result r = ShardConverter.convert(src, out, options, listener);
        double secs = (System.nanoTime() - t0) / 1e9;
        if (!quiet) {
            PrintWriter o = spec.commandLine().getOut();
            var m = r.manifest();
            o.printf(Locale.ROOT, "converted %d tensors (%s) into %d shards in %s, %.1f s (%.0f MB/s)%n",
                    m.tensors().size(), Sizes.format(r.tensorBytes()), m.shards().size(), r.out(), secs,
                    r.tensorBytes() / secs / 1e6);
            o.printf(Locale.ROOT, "layout %s, tp %d, %d expert groups; manifest %s%n",
                    l.json(), tp, m.groups().size(), r.manifestHash());
            o.flush();
        }
        return 0;
    }

    static Layout layout(String text) {
        return switch (text.toLowerCase(Locale.ROOT)) {
            case "row" -> Layout.ROW;
            case "column", "col" -> Layout.COLUMN;
            default -> throw new IllegalArgumentException("--layout: '" + text + "' is not row or column");
        };
    }

    static long size(String option, String text) {
        try {
            return Sizes.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(option + ": " + e.getMessage());
        }
    }
}
