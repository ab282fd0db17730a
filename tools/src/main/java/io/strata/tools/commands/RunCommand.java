package io.strata.tools.commands;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.strata.core.manifest.Manifest;
import io.strata.kernels.decoder.ForwardStep;
import io.strata.kernels.decoder.StepListener;
import io.strata.tools.generate.GenerationRequest;
import io.strata.tools.generate.GenerationResult;
import io.strata.tools.generate.Generator;
import io.strata.tools.generate.RunOptions;
import io.strata.tools.generate.StatsJson;
import io.strata.tools.generate.StatsTable;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code strata run}: generate tokens from a converted model while its experts are paged through the tiers. */
@Command(name = "run", mixinStandardHelpOptions = true, sortOptions = false,
        headerHeading = "%n", header = "Generate tokens from a converted MoE model, paging experts through the tiers.",
        synopsisHeading = "%nSYNOPSIS%n  ",
        descriptionHeading = "%nDESCRIPTION%n",
        description = {
                "  Feeds PROMPT (token ids) to the model in MODEL (a directory written by shard-convert) and",
                "  generates up to --max-new tokens, greedy unless --temperature is set. Dense weights stay",
                "  resident; each layer's routed experts are pinned while used and otherwise paged between the",
                "  device tier, host memory, the disk cache and the model directory within the given budgets.",
                "  A prefetch scheduler loads the next layer's likely experts while the current one computes.",
                "",
                "  Prints the generated token ids, comma-separated. With --json prints one JSON object instead:",
                "  {\"prompt\":[..],\"generated\":[..],\"logits\":[[..] one array per generated token],\"stats\":{..}}.",
                "  With --stats prints the tier telemetry table to stderr."},
        parameterListHeading = "%nARGUMENTS%n",
        optionListHeading = "%nOPTIONS%n",
        exitCodeListHeading = "%nEXIT STATUS%n",
        exitCodeList = {"0:generated", "1:error (bad model, budget too small, ...)", "2:bad usage"},
        footerHeading = "%nEXAMPLES%n",
        footer = {"  strata run ./mixtral-strata --prompt 1,2,3 --max-new 16",
                "  strata run ./mixtral-strata --prompt 1,2,3 --max-new 16 --host-budget 2GiB --device-budget 512MiB --stats",
                "  strata run ./mixtral-strata --prompt 1,2,3 --max-new 512 --kv-budget 8MiB --kv-codec zstd --json"})
public final class RunCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MODEL", description = "A converted model directory (see shard-convert).")
    Path model;

    @Option(names = "--prompt", required = true, paramLabel = "IDS", split = ",",
            description = "Prompt token ids, comma-separated, e.g. 1,2,3.")
    List<Integer> prompt;

    @Option(names = "--max-new", paramLabel = "N", defaultValue = "16",
            description = "Tokens to generate. Default: ${DEFAULT-VALUE}.")
    int maxNew;

    @Option(names = "--json", description = "Print one JSON object with prompt, generated, per-step logits and stats.")
    boolean json;

    @Option(names = "--stats", description = "Print tier telemetry (hits, misses, bytes, bandwidth, stalls) to stderr.")
    boolean stats;

    @Option(names = "--progress", description = "Print each token as it is generated (stderr).")
    boolean progress;

    @Mixin
    RunOptions options;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (Files.isDirectory(model) && !Files.exists(model.resolve(Manifest.FILE_NAME))
                && Files.exists(model.resolve("config.json"))) {
            throw new IllegalArgumentException(model + " is a Hugging Face checkpoint, not a converted model: run "
                    + "`strata shard-convert " + model + " OUT` first and pass OUT");
        }
        GenerationRequest req = new GenerationRequest(model, prompt, maxNew, options.runtime(), options.kv(),
                options.sampler(), options.decoder());
        StepListener listener = progress ? (ForwardStep s) -> {
            if (s.sampled() >= 0) {
                err.printf("token %d at position %d (%.1f ms)%n", s.sampled(), s.position() + 1, s.nanos() / 1e6);
                err.flush();
            }
        } : StepListener.NONE;
        GenerationResult r = Generator.run(req, listener);
        if (json) {
            ObjectMapper mapper = new ObjectMapper();
            ObjectNode root = mapper.createObjectNode();
            ArrayNode p = root.putArray("prompt");
            r.prompt().forEach(p::add);
            ArrayNode g = root.putArray("generated");
            r.generated().forEach(g::add);
            ArrayNode logits = root.putArray("logits");
            for (float[] step : r.logits()) {
                ArrayNode a = logits.addArray();
                for (float v : step) {
                    a.add(v);
                }
            }
            root.set("stats", StatsJson.of(r, mapper));
            out.println(mapper.writeValueAsString(root));
        } else {
            out.println(r.generated().stream().map(String::valueOf).collect(Collectors.joining(",")));
        }
        out.flush();
        if (stats) {
            err.print(StatsTable.format(r));
            err.flush();
        }
        return 0;
    }

}
