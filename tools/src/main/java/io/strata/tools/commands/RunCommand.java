package io.strata.tools.commands;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.strata.core.manifest.Manifest;
import io.strata.loader.runtime.ModelRuntime;
import io.strata.p2p.fetch.ManifestSource;
import io.strata.p2p.fetch.MeshPeerTier;
import io.strata.p2p.fetch.ModelFetcher;
import io.strata.p2p.fetch.SwarmOptions;
import io.strata.p2p.identity.ManifestSignature;
import io.strata.p2p.identity.NodeIdentity;
import io.strata.p2p.node.NodeConfig;
import io.strata.p2p.node.PeerNode;
import io.strata.p2p.wire.ModelHash;
import io.strata.p2p.wire.PeerAddress;
import io.strata.storage.model.ConvertedModel;
import io.strata.kernels.decoder.ForwardStep;
import io.strata.kernels.decoder.StepListener;
import io.strata.tools.generate.GenerationRequest;
import io.strata.tools.generate.GenerationResult;
import io.strata.tools.generate.Generator;
import io.strata.tools.generate.RunOptions;
import io.strata.tools.generate.StatsJson;
import io.strata.tools.generate.StatsTable;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
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
                "  With --stats prints the tier telemetry table to stderr.",
                "",
                "  With --peers, what no local tier holds is paged from the mesh: MODEL may then be a manifest",
                "  hash (the manifest itself is fetched and checked against it) or a manifest.json alone."},
        parameterListHeading = "%nARGUMENTS%n",
        optionListHeading = "%nOPTIONS%n",
        exitCodeListHeading = "%nEXIT STATUS%n",
        exitCodeList = {"0:generated", "1:error (bad model, budget too small, ...)", "2:bad usage"},
        footerHeading = "%nEXAMPLES%n",
        footer = {"  strata run ./mixtral-strata --prompt 1,2,3 --max-new 16",
                "  strata run ./mixtral-strata --prompt 1,2,3 --max-new 16 --host-budget 2GiB --device-budget 512MiB --stats",
                "  strata run ./mixtral-strata --prompt 1,2,3 --max-new 512 --kv-budget 8MiB --kv-codec zstd --json",
                "  strata run 3f9c...e1 --peers 10.0.0.5:7070 --prompt 1,2,3 --host-budget 4GiB --trust publisher.pub"})
public final class RunCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MODEL",
            description = "A converted model directory (see shard-convert); with --peers also a manifest hash or a "
                    + "manifest.json whose shards are not here.")
    String model;

    @Option(names = "--peers", split = ",", paramLabel = "HOST:PORT",
            description = "Peers to page experts from when they are in no local tier: only the chunks covering an "
                    + "expert are fetched, each verified against the manifest's BLAKE3 hash.")
    List<String> peers;

    @Option(names = "--listen", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:0",
            description = "With --peers: where this node listens. Default: ${DEFAULT-VALUE}.")
    String listen;

    @Option(names = "--trust", paramLabel = "KEY",
            description = "With --peers: refuse a manifest not signed by this publisher key (64 hex digits or a file).")
    String trust;

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

    /**
     * Experts (and dense tensors) missing from every local tier come from the mesh through the runtime's peer tier.
     * A local model directory still serves what it has; a bare hash or manifest needs nothing local.
     */
    private GenerationResult runOverMesh(StepListener listener) throws Exception {
        byte[] trusted = trust == null ? null : ManifestSignature.parseTrustedKey(trust);
        InetSocketAddress at = PeerAddress.parseListen(listen);
        try (PeerNode node = PeerNode.start(new NodeConfig().bind(at.getHostString(), at.getPort())
                .identity(NodeIdentity.generate()))) {
            List<PeerAddress> addrs = peers.stream().map(PeerAddress::parse).toList();
            if (ModelFetcher.connectAll(node, addrs, Duration.ofSeconds(10)) == 0) {
                throw new IOException("--peers: none of " + addrs + " could be reached");
            }
            Path dir = Path.of(model);
            ManifestSource.Obtained m;
            if (model.matches("[0-9a-fA-F]{64}") && !Files.exists(dir)) {
                m = ManifestSource.fromPeers(node, ModelHash.parse(model.toLowerCase(Locale.ROOT)), trusted,
                        Duration.ofSeconds(30));
            } else {
                m = ManifestSource.fromFile(Files.isDirectory(dir) ? dir.resolve(Manifest.FILE_NAME) : dir, trusted);
            }
            MeshPeerTier tier = new MeshPeerTier(node, m.hash(), m.manifest(), SwarmOptions.defaults(),
                    Duration.ofMinutes(5));
            GenerationRequest req = new GenerationRequest(null, prompt, maxNew, options.runtime(), options.kv(),
                    options.sampler(), options.decoder());
            boolean local = Files.isDirectory(dir) && m.manifest().shards().stream()
                    .allMatch(s -> Files.exists(dir.resolve(s.filename())));
            if (local) {
                try (ConvertedModel origin = ConvertedModel.open(dir);
                     ModelRuntime rt = ModelRuntime.open(origin, tier, options.runtime())) {
                    return Generator.run(rt, req, listener);
                }
            }
            try (ModelRuntime rt = ModelRuntime.open(m.manifest(), m.hash().hex(), tier, options.runtime())) {
                return Generator.run(rt, req, listener);
            }
        }
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Path dir = Path.of(model);
        if (Files.isDirectory(dir) && !Files.exists(dir.resolve(Manifest.FILE_NAME))
                && Files.exists(dir.resolve("config.json"))) {
            throw new IllegalArgumentException(model + " is a Hugging Face checkpoint, not a converted model: run "
                    + "`strata shard-convert " + model + " OUT` first and pass OUT");
        }
        StepListener listener = progress ? (ForwardStep s) -> {
            if (s.sampled() >= 0) {
                err.printf("token %d at position %d (%.1f ms)%n", s.sampled(), s.position() + 1, s.nanos() / 1e6);
                err.flush();
            }
        } : StepListener.NONE;
        GenerationResult r;
        if (peers == null || peers.isEmpty()) {
            r = Generator.run(new GenerationRequest(dir, prompt, maxNew, options.runtime(), options.kv(),
                    options.sampler(), options.decoder()), listener);
        } else {
            r = runOverMesh(listener);
        }
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
