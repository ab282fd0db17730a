package io.strata.tools.commands;

import io.strata.core.manifest.Manifest;


import io.strata.core.model.Tier;
import io.strata.loader.kv.KvOptions;
import io.strata.loader.kv.PagedKvStore;
import io.strata.loader.runtime.ModelRuntime;
import io.strata.p2p.wire.PeerAddress;
import io.strata.server.ServeEngine;
import io.strata.server.StrataServer;
import io.strata.text.Tokenizer;
import io.strata.text.Utf8;
import io.strata.text.chat.ChatTemplate;
import io.strata.tools.generate.DecodeSession;
import io.strata.tools.generate.ModelText;
import io.strata.tools.generate.RunOptions;
import io.strata.tools.generate.TokenizerSource;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code strata serve}: the OpenAI HTTP API, Prometheus metrics and a status page over one converted model
 * (the server itself is the {@code server} module; this command opens the model, its tokenizer and template).
 */
@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
        headerHeading = "%n", header = "Serve a converted model over the OpenAI HTTP API, with metrics and a status page.",
        synopsisHeading = "%nSYNOPSIS%n  ",
        descriptionHeading = "%nDESCRIPTION%n",
        description = {
                "  POST /v1/completions and POST /v1/chat/completions (the model's chat template applied;",
                "  stream: true answers as server-sent events; max_tokens, temperature, top_p, seed, stop),",
                "  GET /v1/models, GET /health, GET /metrics (Prometheus text), GET / (a live status page:",
                "  tier occupancy against budget, page-in bandwidth, hottest experts per layer).",
                "",
                "  One forward pass runs at a time (each already uses every core, and all sequences page",
                "  through the same budgets); up to --parallel sequences take turns token by token, the rest",
                "  wait in a FIFO queue of --queue (full: 429). A client that disconnects stops its sequence",
                "  at the next token, which frees its KV pages. Bad requests get OpenAI-style JSON errors",
                "  (4xx); bodies are capped at 1 MiB. Sampling comes from each request (the --temperature,",
                "  --top-p and --seed options are not used here). Stop with Ctrl-C."},
        parameterListHeading = "%nARGUMENTS%n",
        optionListHeading = "%nOPTIONS%n",
        exitCodeListHeading = "%nEXIT STATUS%n",
        exitCodeList = {"0:stopped (Ctrl-C)", "1:error (no model, tokenizer or budget; address in use, ...)",
                "2:bad usage"},
        footerHeading = "%nEXAMPLES%n",
        footer = {"  strata serve ./qwen3-strata --listen 127.0.0.1:8080 --host-budget 8GiB",
                "  curl -s localhost:8080/v1/chat/completions -H 'Content-Type: application/json' \\",
                "       -d '{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":32}'"})
public final class ServeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MODEL", description = "A converted model directory (see shard-convert).")
    Path model;

    @Option(names = "--listen", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:8080",
            description = "Address to listen on (port 0: any free port, printed). Default: ${DEFAULT-VALUE}.")
    String listen;

    @Option(names = "--parallel", paramLabel = "N", defaultValue = "4",
            description = "Sequences admitted at once, taking turns token by token. Default: ${DEFAULT-VALUE}.")
    int parallel;

    @Option(names = "--queue", paramLabel = "N", defaultValue = "64",
            description = "Requests that may wait for a slot; past that, 429. Default: ${DEFAULT-VALUE}.")
    int queue;

    @Option(names = "--model-name", paramLabel = "NAME",
            description = "The model id clients send and /v1/models lists. Default: the directory's name.")
    String modelName;

    @Option(names = "--chat-template", paramLabel = "FILE",
            description = "A Jinja chat template to use instead of the model's.")
    Path templateFile;

    @Mixin
    RunOptions options;

    /** Set by tests to stop the server; counted down once it listens. */
    CountDownLatch stop = new CountDownLatch(1);
    volatile InetSocketAddress bound;
    final CountDownLatch started = new CountDownLatch(1);

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (Files.isDirectory(model) && !Files.exists(model.resolve(Manifest.FILE_NAME))) {
            throw new IllegalArgumentException(model + " is not a converted model (no manifest.json): run "
                    + "`strata shard-convert` first");
        }
        InetSocketAddress at = PeerAddress.parseListen(listen);
        String id = modelName != null ? modelName : model.toAbsolutePath().normalize().getFileName().toString();
        KvOptions kv = options.kv() != null ? options.kv() : KvOptions.fromFlags(null, options.kvCodec);
        if (options.cacheDir != null) {
            kv = kv.withSpillRoot(options.cacheDir.resolve("kv-spill"));
        }
        try (ModelRuntime rt = ModelRuntime.open(model, options.runtime())) {
            // the same checks run/chat make up front (single rank, config, budgets), then the session is dropped
            DecodeSession.open(rt, model.toString(), options.runtime(), null, options.sampler(), options.decoder(),
                    false).close();
            Tokenizer tok = TokenizerSource.forModel(model, !options.trustLocal).open();
            ModelText text = ModelText.of(tok, rt.manifest().config(), model.toString());
            ChatTemplate template = templateFile != null
                    ? ChatTemplate.of(Utf8.readStrict(templateFile), templateFile.toString())
                    : ChatTemplate.of(tok).orElse(null);
            try (PagedKvStore store = io.strata.tools.generate.DecodeSession.kvStore(rt, kv);
                 ServeEngine engine = new ServeEngine(rt, options.decoder(), store, tok, template,
                         text.stops(List.of()), id, parallel, queue);
                 StrataServer server = StrataServer.start(at.getHostString(), at.getPort(), engine, null)) {
                bound = server.address();
                out.println("serving " + id + " on http://" + bound.getHostString() + ":" + bound.getPort()
                        + " (" + parallel + " sequences at once" + (template == null ? "; no chat template: "
                        + "/v1/chat/completions answers 400" : "") + ")");
                out.flush();
                started.countDown();
                awaitStop();
            }
        }
        return 0;
    }

    private void awaitStop() {
        try (ShutdownWait wait = new ShutdownWait(stop, "strata-serve-shutdown")) {
            wait.await();
        }
    }
}
