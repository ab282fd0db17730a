package io.strata.tools.commands;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.strata.core.manifest.Manifest;
import io.strata.core.manifest.ManifestCodec;
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
import io.strata.storage.gguf.GgufManifest;
import io.strata.storage.model.ConvertedModel;
import io.strata.kernels.decoder.ForwardStep;
import io.strata.kernels.decoder.StepListener;
import io.strata.text.Tokenizer;
import io.strata.text.TokenizerException;
import io.strata.text.Utf8;
import io.strata.tools.generate.GenerationRequest;
import io.strata.tools.generate.ModelText;
import io.strata.tools.generate.TextStream;
import io.strata.tools.generate.TokenizerSource;
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
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code strata run}: text (or token ids) in, streamed text (or ids) out, from a converted model whose experts are
 * paged through the tiers.
 */
@Command(name = "run", mixinStandardHelpOptions = true, sortOptions = false,
        headerHeading = "%n", header = "Generate text from a converted MoE model, paging experts through the tiers.",
        synopsisHeading = "%nSYNOPSIS%n  ",
        descriptionHeading = "%nDESCRIPTION%n",
        description = {
                "  Encodes PROMPT with the model's own tokenizer (the tokenizer.json that shard-convert copied",
                "  into MODEL, or the vocabulary a GGUF file embeds) and generates up to --max-new tokens, greedy",
                "  unless --temperature is set, streaming the text to stdout as it is generated (each token's",
                "  complete characters at once; special tokens are not shown). Generation stops early at an EOS",
                "  token (the tokenizer's, generation_config.json's, config.json's eos_token_id) or a --stop id.",
                "  --prompt-ids feeds token ids instead and prints the generated ids, comma-separated; it needs",
                "  no tokenizer and stops only at --stop ids. Dense weights stay resident; each layer's routed",
                "  experts are pinned while used and otherwise paged between the device tier, host memory, the",
                "  disk cache and the model directory within the given budgets. A prefetch scheduler loads the",
                "  next layer's likely experts while the current one computes.",
                "",
                "  MODEL may also be a GGUF file (llama.cpp's format, quantised or not), run in place with no",
                "  conversion: each routed expert is paged as three range reads (its gate, up and down rows)",
                "  out of the file's fused expert tensors, under the same budgets, pins and tiers. GGUF carries",
                "  no hashes, so its bytes are read unverified (a note on stderr says so) and the disk cache",
                "  keeps nothing of it; `strata shard-convert model.gguf OUT` makes a verifiable model.",
                "",
                "  With --json prints one JSON object instead: {\"prompt\":[..],\"generated\":[..],\"text\":\"..\"",
                "  (text prompts only),\"stop\":\"eos\"|\"max-new\",\"logits\":[[..] one array per generated",
                "  token],\"stats\":{..}}. With --stats prints the tier telemetry table to stderr.",
                "",
                "  With --peers, what no local tier holds is paged from the mesh: MODEL may then be a manifest",
                "  hash (the manifest itself is fetched and checked against it) or a manifest.json alone; a",
                "  text prompt then needs the model's tokenizer files beside it (or use --prompt-ids)."},
        parameterListHeading = "%nARGUMENTS%n",
        optionListHeading = "%nOPTIONS%n",
        exitCodeListHeading = "%nEXIT STATUS%n",
        exitCodeList = {"0:generated", "1:error (bad model, budget too small, ...)", "2:bad usage"},
        footerHeading = "%nEXAMPLES%n",
        footer = {"  strata run ./mixtral-strata --prompt 'The capital of France is' --max-new 32",
                "  strata run ./mixtral-8x7b-q4_k_m.gguf --prompt 'The capital of France is' --host-budget 8GiB",
                "  strata run ./mixtral-strata --prompt-file question.txt --max-new 256 --host-budget 2GiB --device-budget 512MiB --stats",
                "  strata run ./mixtral-strata --prompt-ids 1,415,2936 --max-new 512 --kv-budget 8MiB --kv-codec zstd --json",
                "  strata run 3f9c...e1 --peers 10.0.0.5:7070 --prompt-ids 1,2,3 --host-budget 4GiB --trust publisher.pub"})
public final class RunCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MODEL",
            description = "A converted model directory (see shard-convert) or a .gguf file; with --peers also a "
                    + "manifest hash or a manifest.json whose shards are not here.")
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

    @ArgGroup(exclusive = true, multiplicity = "1")
    PromptInput input;

    /** Exactly one of the three ways to give the prompt. */
    static final class PromptInput {
        @Option(names = "--prompt", paramLabel = "TEXT", required = true,
                description = "Prompt text, encoded with the model's tokenizer (BOS added as the tokenizer does).")
        String text;

        @Option(names = "--prompt-file", paramLabel = "FILE", required = true,
                description = "Prompt text read from FILE (UTF-8).")
        Path file;

        @Option(names = "--prompt-ids", paramLabel = "IDS", split = ",", required = true,
                description = "Prompt token ids, comma-separated, e.g. 1,2,3; prints ids instead of text.")
        List<Integer> ids;
    }

    @Option(names = "--stop", paramLabel = "IDS", split = ",",
            description = "Further token ids that end generation (kept in the output), e.g. 2,32000.")
    List<Integer> stop;

    @Option(names = "--max-new", paramLabel = "N", defaultValue = "16",
            description = "Tokens to generate. Default: ${DEFAULT-VALUE}.")
    int maxNew;

    @Option(names = "--json", description = "Print one JSON object with prompt, generated, text, per-step logits and stats.")
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
    private GenerationResult runOverMesh(List<Integer> prompt, Set<Integer> stops, StepListener listener)
            throws Exception {
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
                    options.sampler(), options.decoder(), stops);
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
        if (peers != null && !peers.isEmpty() && GgufManifest.isGguf(dir)) {
            throw new IllegalArgumentException(model + ": a GGUF file is run locally, not over --peers (peers"
                    + " exchange converted models: run `strata shard-convert " + model + " OUT` first)");
        }
        noteUnverified(dir, "run", err);
        ModelText text = input.ids == null ? text(dir, err) : null;
        List<Integer> prompt = text == null ? input.ids
                : text.encode(input.text != null ? input.text : Utf8.readStrict(input.file), true);
        if (prompt.isEmpty()) {
            throw new IllegalArgumentException((input.file != null ? input.file + ": " : "--prompt: ")
                    + "the text encodes to no tokens");
        }
        Set<Integer> stops = text == null ? (stop == null ? Set.of() : Set.copyOf(stop)) : text.stops(stop);
        TextStream stream = text == null ? null : text.stream(json ? null : out);
        // the automatic fit is said once the model is open and the first pass ran, so errors stay one line
        java.util.concurrent.atomic.AtomicBoolean fitSaid = new java.util.concurrent.atomic.AtomicBoolean();
        StepListener listener = (ForwardStep s) -> {
            if (!fitSaid.getAndSet(true)) {
                options.fit().ifPresent(f -> {
                    err.println("strata run: " + f.describe());
                    err.flush();
                });
            }
            if (s.sampled() < 0) {
                return;
            }
            if (progress) {
                err.printf("token %d at position %d (%.1f ms)%n", s.sampled(), s.position() + 1, s.nanos() / 1e6);
                err.flush();
            }
            if (stream != null) {
                stream.push(s.sampled());
            }
        };
        GenerationResult r;
        if (peers == null || peers.isEmpty()) {
            r = Generator.run(new GenerationRequest(dir, prompt, maxNew, options.runtime(), options.kv(),
                    options.sampler(), options.decoder(), stops), listener);
        } else {
            r = runOverMesh(prompt, stops, listener);
        }
        String generatedText = stream == null ? null : stream.finish();
        if (json) {
            ObjectMapper mapper = new ObjectMapper();
            ObjectNode root = mapper.createObjectNode();
            ArrayNode p = root.putArray("prompt");
            r.prompt().forEach(p::add);
            ArrayNode g = root.putArray("generated");
            r.generated().forEach(g::add);
            if (generatedText != null) {
                root.put("text", generatedText);
            }
            root.put("stop", !r.generated().isEmpty() && stops.contains(r.generated().getLast()) ? "eos" : "max-new");
            ArrayNode logits = root.putArray("logits");
            for (float[] step : r.logits()) {
                ArrayNode a = logits.addArray();
                for (float v : step) {
                    a.add(v);
                }
            }
            root.set("stats", StatsJson.of(r, mapper));
            out.println(mapper.writeValueAsString(root));
        } else if (stream != null) {
            out.println();
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

    /** Says, on stderr, that a GGUF model's bytes are read unverified (it has no hashes): never silently. */
    static void noteUnverified(Path model, String command, PrintWriter err) {
        if (GgufManifest.isGguf(model) && Files.isRegularFile(model)) {
            err.println("strata " + command + ": note: " + model + " is a GGUF file: it carries no hashes, so its"
                    + " weights are read unverified");
            err.flush();
        }
    }

    /**
     * The model's tokenizer, for a text prompt. A prompt that looks like the token ids --prompt took before it
     * took text gets a hint, but is encoded as the text it is.
     */
    private ModelText text(Path dir, PrintWriter err) {
        if (!Files.exists(dir) || (Files.isRegularFile(dir) && dir.getFileName().toString().endsWith(".json"))) {
            throw new IllegalArgumentException(model + ": the model's tokenizer is not here (only the manifest"
                    + " is): fetch the model with `strata fetch` for text prompts, or give --prompt-ids");
        }
        if (input.text != null && input.text.matches("\\s*\\d+(\\s*,\\s*\\d+)+\\s*")) {
            err.println("strata run: note: --prompt takes text now; for token ids use --prompt-ids " + input.text.strip());
            err.flush();
        }
        try {
            Tokenizer tok = TokenizerSource.forModel(dir, !options.trustLocal).open();
            Manifest m = Files.isDirectory(dir) && Files.exists(dir.resolve(Manifest.FILE_NAME))
                    ? ManifestCodec.read(dir) : null;
            return ModelText.of(tok, m == null ? null : m.config(), model);
        } catch (TokenizerException e) {
            if (e.getMessage().contains("no tokenizer (") && input.text != null
                    && input.text.matches("\\s*\\d+(\\s*,\\s*\\d+)*\\s*")) {
                throw new TokenizerException(e.getMessage() + " (--prompt takes text now: for these ids use"
                        + " --prompt-ids " + input.text.strip() + ")");
            }
            throw e;
        }
    }
}
