package io.strata.server;

import io.strata.core.memory.MemoryLedger;
import io.strata.core.memory.Pool;
import io.strata.core.model.DType;
import io.strata.core.model.ModelFamily;
import io.strata.core.model.Tier;
import io.strata.kernels.decoder.DecoderOptions;
import io.strata.loader.kv.KvOptions;
import io.strata.loader.kv.PagedKvStore;
import io.strata.loader.runtime.ModelRuntime;
import io.strata.loader.runtime.RuntimeOptions;
import io.strata.storage.convert.ConvertOptions;
import io.strata.storage.convert.ProgressListener;
import io.strata.storage.convert.ShardConverter;
import io.strata.storage.synth.SyntheticCheckpoint;
import io.strata.testdata.TestData;
import io.strata.text.Tokenizer;
import io.strata.text.chat.ChatTemplate;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Stream;

/**
 * A running server over a small random-weight Mixtral-layout model whose vocabulary is the shared mistral-sp32k
 * tokenizer's (its files copied beside the weights, as a Hugging Face checkpoint has them), converted for real,
 * with a host budget that makes experts page in and a paged KV store, as {@code strata serve} sets them up.
 */
final class ServerFixture implements AutoCloseable {
    static final String MODEL_ID = "tiny-mistral-moe";

    final ModelRuntime runtime;
    final PagedKvStore kv;
    final ServeEngine engine;
    final StrataServer server;
    final String base;
    private final HttpClient http = HttpClient.newHttpClient();

    private static Path model;
    private static Tokenizer tokenizer;

    /**
     * The converted model and its tokenizer, made once per test JVM under target/ (converting and loading the
     * 32k-token tokenizer take seconds; every test class gets its own runtime and server over them).
     */
    private static synchronized Path model() throws IOException {
        if (model != null) {
            return model;
        }
        Path dir = Files.createTempDirectory(Files.createDirectories(Path.of("target")).toAbsolutePath(),
                "test-model-");
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                io.strata.storage.fs.FileTrees.delete(dir);
            } catch (IOException ignored) {
                // target/ is cleaned by the build anyway
            }
        }));
        Path ckpt = dir.resolve("checkpoint");
        SyntheticCheckpoint.builder().family(ModelFamily.MIXTRAL).dtype(DType.BF16).hidden(64).intermediate(96)
                .layers(2).heads(4).kvHeads(2).headDim(16).experts(4).topK(2).vocab(32000).shards(1).seed(17)
                .write(ckpt);
        Path src = TestData.dir("tokenizers/mistral-sp32k");
        try (Stream<Path> files = Files.list(src)) {
            for (Path f : files.toList()) {
                String n = f.getFileName().toString();
                if (n.equals("tokenizer.json") || n.equals("tokenizer_config.json") || n.equals("chat_template.jinja")) {
                    Files.copy(f, ckpt.resolve(n));
                }
            }
        }
        Path m = dir.resolve("model");
        ShardConverter.convert(ckpt, m, ConvertOptions.defaults(), new ProgressListener() { });
        tokenizer = Tokenizer.fromDirectory(m);
        model = m;
        return m;
    }

    ServerFixture(Path dir, int parallel) throws Exception {
        Path model = model();
        // dense ~8.3 MiB; a 9 MiB host budget holds only a few of the 8 experts, so requests page and evict
        runtime = ModelRuntime.open(model, RuntimeOptions.builder().hostBudget(9L << 20)
                .cacheDir(dir.resolve("cache")).build());
        KvOptions ko = KvOptions.fromFlags(null, "lz4").withSpillRoot(dir.resolve("kv-spill"));
        MemoryLedger fast = runtime.ledger(runtime.computeTier());
        fast.limitPool(Pool.KV, ko.fastBudgetBytes());
        kv = PagedKvStore.create(ko, fast, runtime.ledger(Tier.HOST));
        Tokenizer tok = tokenizer;
        Set<Integer> eos = new HashSet<>();
        for (int id : tok.eosIds()) {
            eos.add(id);
        }
        engine = new ServeEngine(runtime, DecoderOptions.defaults().withThreads(1), kv, tok,
                ChatTemplate.of(tok).orElseThrow(), eos, MODEL_ID, parallel, 8);
        server = StrataServer.start("127.0.0.1", 0, engine, null);
        base = "http://127.0.0.1:" + server.address().getPort();
    }

    HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(base + path)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> post(String path, String json) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Override
    public void close() throws Exception {
        try (runtime; kv; engine; server) {
            // closed in reverse: server, engine, kv store, runtime
        }
    }
}
