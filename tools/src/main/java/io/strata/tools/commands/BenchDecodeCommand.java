package io.strata.tools.commands;

import io.strata.core.manifest.Manifest;
import io.strata.core.manifest.ManifestCodec;
import io.strata.core.manifest.ShardInfo;
import io.strata.core.model.Tier;
import io.strata.core.telemetry.TierStats;
import io.strata.core.util.Sizes;
import io.strata.kernels.decoder.DecoderOptions;
import io.strata.kernels.decoder.Sampler;
import io.strata.kernels.decoder.StepListener;
import io.strata.loader.runtime.RuntimeOptions;
import io.strata.tools.generate.DemoModel;
import io.strata.tools.generate.GenerationRequest;
import io.strata.tools.generate.GenerationResult;
import io.strata.tools.generate.Generator;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
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
 * {@code strata bench decode}: decode tokens/s with experts paged under tight budgets against the same model fully
 * resident, in the same run, and the achieved page-in bandwidth against the bound set by the raw read bandwidth
 * of the shards.
 */
@Command(name = "decode", mixinStandardHelpOptions = true, sortOptions = false,
        header = "Decode tokens/s paged vs fully resident, and page-in bandwidth vs the raw shard read bound.",
        description = {
                "Uses MODEL (a converted model) or, by default, the demo model (built once, cached). Measures in one",
                "run: (1) raw sequential read bandwidth of the shard files, twice (the second pass is page-cache warm);",
                "(2) decode with every weight resident (unlimited host budget, no device tier); (3) decode with",
                "experts paged under --device-budget/--host-budget. A warm-up generation runs first so the JIT has",
                "compiled the kernels. Reports tokens/s of each and their ratio, bytes paged in per token, the",
                "achieved page-in bandwidth, and the I/O bound: raw read bandwidth / bytes missed per token."})
public final class BenchDecodeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", paramLabel = "DIR", description = "A converted model. Default: the demo model.")
    Path model;

    @Option(names = "--tokens", paramLabel = "N", defaultValue = "32", description = "Tokens per measured run. Default: ${DEFAULT-VALUE}.")
    int tokens;

    @Option(names = "--device-budget", paramLabel = "SIZE", defaultValue = "64MiB", description = "Paged run's device budget. Default: ${DEFAULT-VALUE}.")
    String deviceBudget;

    @Option(names = "--host-budget", paramLabel = "SIZE", defaultValue = "128MiB", description = "Paged run's host budget. Default: ${DEFAULT-VALUE}.")
    String hostBudget;

    @Option(names = "--trust-local", description = "Do not verify the model's bytes against its manifest while reading.")
    boolean trustLocal;

    @Option(names = "--threads", paramLabel = "N", description = "Compute threads. Default: all cores.")
    Integer threads;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        Path dir = model != null ? model : DemoModel.ensure(DemoModel.root(null), out);
        Manifest m = ManifestCodec.read(dir);
        double firstRead = rawReadBandwidth(dir, m);
        double rawBandwidth = rawReadBandwidth(dir, m);
        List<Integer> prompt = List.of(1, 17, 42, 256, 1001, 7, 99, 512);
        DecoderOptions dec = threads == null ? DecoderOptions.defaults() : DecoderOptions.defaults().withThreads(threads);
        RuntimeOptions resident = RuntimeOptions.builder().hostBudget(Long.MAX_VALUE / 4).noDiskCache()
                .prefetch(false).trustLocal(trustLocal).build();
        RuntimeOptions paged = RuntimeOptions.builder().deviceBudget(Sizes.parse(deviceBudget))
                .hostBudget(Sizes.parse(hostBudget)).noDiskCache().trustLocal(trustLocal).build();
        out.println("warm-up ...");
        out.flush();
        run(dir, prompt, resident, dec);
        run(dir, prompt, paged, dec);
        out.println("measuring ...");
        out.flush();
        GenerationResult r = run(dir, prompt, resident, dec);
        GenerationResult p = run(dir, prompt, paged, dec);
        if (!r.generated().equals(p.generated())) {
            throw new IllegalStateException("paged and resident runs generated different tokens: " + r.generated()
                    + " vs " + p.generated());
        }
        int passes = prompt.size() + p.generated().size() - 1;
        TierStats host = p.telemetry().tier(Tier.HOST);
        // the bound counts what demand misses had to read; prefetch traffic (right or wrong) comes on top
        double missedPerPass = (double) host.misses() * p.expertBytes() / passes;
        double pagedPerPass = (double) host.bytesIn() / passes;
        double bound = missedPerPass == 0 ? Double.POSITIVE_INFINITY : rawBandwidth / missedPerPass;
        out.printf(Locale.ROOT, "%nmodel %s: %d experts of %s, dense %s; %d measured tokens (same tokens both runs)%n",
                dir, p.expertCount(), Sizes.format(p.expertBytes()), Sizes.format(p.denseBytes()), tokens);
        out.printf(Locale.ROOT, "raw sequential read of the shards: first pass %s/s, second pass (page cache warm) %s/s%n",
                Sizes.format((long) firstRead), Sizes.format((long) rawBandwidth));
        out.printf(Locale.ROOT, "%-34s %12s %10s%n", "run", "tokens/s", "ratio");
        out.printf(Locale.ROOT, "%-34s %12.2f %10s%n", "resident (all weights in host)", r.decodeTokensPerSecond(), "1.00");
        out.printf(Locale.ROOT, "%-34s %12.2f %10.2f%n", "paged (device " + deviceBudget + ", host " + hostBudget + ")",
                p.decodeTokensPerSecond(), p.decodeTokensPerSecond() / r.decodeTokensPerSecond());
        TierStats device = p.telemetry().tiers().get(Tier.DEVICE);
        out.printf(Locale.ROOT, "paged run, per forward pass (%d passes): %s missed by demand loads, %s paged into "
                        + "host in all (prefetch included); host hit rate %.1f %%%s%n",
                passes, Sizes.format((long) missedPerPass), Sizes.format((long) pagedPerPass), 100 * host.hitRate(),
                device == null ? "" : String.format(Locale.ROOT, ", device hit rate %.1f %%", 100 * device.hitRate()));
        out.printf(Locale.ROOT, "achieved page-in bandwidth (host tier, while reading): %s/s = %.2f of the raw read bandwidth%n",
                Sizes.format((long) host.bandwidth()), host.bandwidth() / rawBandwidth);
        out.printf(Locale.ROOT, "I/O bound on tokens/s (raw bandwidth / bytes missed per pass): %.1f; paged run reached %.1f %% of it%n",
                bound, 100 * p.decodeTokensPerSecond() / bound);
        out.printf(Locale.ROOT, "decode stall waiting for experts: %.1f ms of %.1f ms; prefetch accuracy %.1f %%%n",
                p.expertWaitNanos() / 1e6, p.decodeNanos() / 1e6, 100 * p.telemetry().prefetch().accuracy());
        out.flush();
        return 0;
    }

    private GenerationResult run(Path dir, List<Integer> prompt, RuntimeOptions o, DecoderOptions dec) {
        return Generator.run(new GenerationRequest(dir, prompt, tokens, o, null, Sampler.greedy(), dec), StepListener.NONE);
    }

    /** Bytes/s of a plain sequential read of every shard file through a direct buffer. */
    static double rawReadBandwidth(Path dir, Manifest m) throws IOException {
        ByteBuffer buf = ByteBuffer.allocateDirect(4 << 20);
        long bytes = 0;
        long start = System.nanoTime();
        for (ShardInfo s : m.shards()) {
            try (FileChannel ch = FileChannel.open(dir.resolve(s.filename()), StandardOpenOption.READ)) {
                int n;
                while ((n = ch.read(buf.clear())) > 0) {
                    bytes += n;
                }
            }
        }
        return bytes * 1e9 / (System.nanoTime() - start);
    }
}
