package io.strata.tools.commands;

import io.strata.loader.policy.Policies;
import io.strata.core.util.Sizes;
import io.strata.kernels.decoder.DecoderOptions;
import io.strata.kernels.decoder.ForwardStep;
import io.strata.kernels.decoder.Sampler;
import io.strata.loader.runtime.RuntimeOptions;
import io.strata.tools.generate.GenerationRequest;
import io.strata.tools.generate.GenerationResult;
import io.strata.tools.generate.DemoModel;
import io.strata.tools.generate.Generator;
import io.strata.tools.generate.StatsTable;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code strata demo}: the main job on its embedded default. Builds (once, cached) a Mixtral-layout BF16 model of
 * a few hundred MB with a skewed router, converts it, and generates with device and host budgets well below the
 * model's expert bytes, printing each token and a final table.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        headerHeading = "%n", header = "Generate a Mixtral-layout model, convert it and run it under tight budgets.",
        synopsisHeading = "%nSYNOPSIS%n  ",
        descriptionHeading = "%nDESCRIPTION%n",
        description = {
                "  The first run writes a Mixtral-layout checkpoint (BF16, 12 layers x 8 experts, about 480 MB,",
                "  random weights from a fixed seed, with a skewed router so that some experts are hot) and",
                "  converts it with shard-convert; both are cached under DIR and reused. It then generates",
                "  tokens with a simulated device budget and a host budget that hold only a fraction of the",
                "  experts, so experts are paged through device, host, the disk cache and the model directory,",
                "  printing each token and a final table: tokens/s, hits and misses per tier, bytes paged,",
                "  prefetch accuracy, stall time and peak memory against each budget."},
        optionListHeading = "%nOPTIONS%n",
        exitCodeListHeading = "%nEXIT STATUS%n",
        exitCodeList = {"0:done", "1:error"},
        footerHeading = "%nEXAMPLES%n",
        footer = {"  strata demo", "  strata demo --tokens 64 --host-budget 96MiB --device-budget 48MiB"})
public final class DemoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--dir", paramLabel = "DIR",
            description = "Where the demo model is cached. Default: demo/ under $STRATA_CACHE, else $XDG_CACHE_HOME/strata, else ~/.cache/strata.")
    Path dir;

    @Option(names = "--tokens", paramLabel = "N", defaultValue = "40", description = "Tokens to generate. Default: ${DEFAULT-VALUE}.")
    int tokens;

    @Option(names = "--device-budget", paramLabel = "SIZE", defaultValue = "64MiB",
            description = "Simulated device budget (dense weights + hot experts). Default: ${DEFAULT-VALUE}.")
    String deviceBudget;

    @Option(names = "--host-budget", paramLabel = "SIZE", defaultValue = "128MiB",
            description = "Host-memory budget for experts. Default: ${DEFAULT-VALUE}.")
    String hostBudget;

    @Option(names = "--disk-budget", paramLabel = "SIZE", defaultValue = "256MiB",
            description = "Disk-cache budget. Default: ${DEFAULT-VALUE}.")
    String diskBudget;

    @Option(names = "--policy", paramLabel = "P", defaultValue = Policies.DEFAULT, description = "Expert cache policy. Default: ${DEFAULT-VALUE}.")
    String policy;

    @Option(names = "--trust-local", description = "Do not verify the model's and the disk cache's bytes while reading.")
    boolean trustLocal;

    @Option(names = "--fresh", description = "Regenerate and reconvert the demo model, and empty its disk cache.")
    boolean fresh;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        Path root = DemoModel.root(dir);
        if (fresh) {
            DemoModel.deleteTree(root);
        }
        Path model = DemoModel.ensure(root, out);
        Path cache = root.resolve("cache");
        RuntimeOptions runtime = RuntimeOptions.builder()
                .deviceBudget(Sizes.parse(deviceBudget))
                .hostBudget(Sizes.parse(hostBudget))
                .cacheDir(cache).diskBudget(Sizes.parse(diskBudget))
                .policy(policy).trustLocal(trustLocal).build();
        List<Integer> prompt = List.of(1, 17, 42, 256, 1001, 7, 99, 512);
        out.printf("generating %d tokens from a %d-token prompt; budgets: device %s, host %s, disk cache %s%n",
                tokens, prompt.size(), deviceBudget, hostBudget, diskBudget);
        out.flush();
        int[] count = {0};
        long[] started = {System.nanoTime()};
        GenerationResult r = Generator.run(new GenerationRequest(model, prompt, tokens, runtime, null,
                Sampler.greedy(), DecoderOptions.defaults()), (ForwardStep s) -> {
            if (s.sampled() >= 0) {
                count[0]++;
                out.printf("  token %3d/%d: %5d   %6.1f ms (waited %5.1f ms for experts)%n", count[0], tokens,
                        s.sampled(), s.nanos() / 1e6, s.expertWaitNanos() / 1e6);
                out.flush();
            }
        });
        out.printf("%ngenerated: %s%n", r.generated());
        out.printf("wall time %.1f s%n%n", (System.nanoTime() - started[0]) / 1e9);
        out.print(StatsTable.format(r));
        out.flush();
        return 0;
    }
}
