package io.strata.tools.commands;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.strata.core.model.ModelFamily;
import io.strata.testdata.TestData;
import io.strata.tools.StrataCli;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code strata serve} and {@code strata peer --http} through the real CLI: the server answers a chat completion
 * and /metrics, the peer's /metrics counts the bytes it served to a fetch. (The server's own behaviour is tested
 * in the server module.)
 */
class ServeAndPeerHttpTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newHttpClient();

    @TempDir
    Path tmp;

    /** Runs {@code args} on a thread until interrupted; returns the first match of {@code ready} in its output. */
    private Matcher start(Thread[] thread, CompletableFuture<Integer> exit, StringWriter err, Pattern ready,
                          String... args) throws Exception {
        PeerFetchCommandsTest.Watch watch = new PeerFetchCommandsTest.Watch(ready);
        thread[0] = Thread.ofPlatform().name("test-strata-" + args[0]).start(() -> {
            CommandLine cl = StrataCli.commandLine();
            cl.setOut(new PrintWriter(watch, true));
            cl.setErr(new PrintWriter(err, true));
            exit.complete(cl.execute(args));
        });
        try {
            return watch.match.get(60, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new AssertionError("not ready: " + watch.text() + err, e);
        }
    }

    private String get(String url) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), url + ": " + r.body());
        return r.body();
    }

    @Test
    void serveAnswersChatAndMetrics() throws Exception {
        Path model = TextModels.convert(TextModels.checkpoint(tmp.resolve("ckpt"), "mistral-sp32k",
                ModelFamily.MIXTRAL, TextModels.MISTRAL_VOCAB), tmp.resolve("model"));
        Thread[] t = new Thread[1];
        CompletableFuture<Integer> exit = new CompletableFuture<>();
        StringWriter err = new StringWriter();
        Matcher m = start(t, exit, err, Pattern.compile("serving (\\S+) on (http://\\S+)"), "serve", model.toString(),
                "--listen", "127.0.0.1:0", "--host-budget", "64MiB", "--no-disk-cache", "--threads", "1",
                "--kv-budget", "1MiB", "--cache-dir", tmp.resolve("cache").toString());
        try {
            assertEquals("model", m.group(1));
            String base = m.group(2);
            assertTrue(get(base + "/health").contains("\"ok\""));
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions"))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
                            "{\"model\":\"model\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],"
                                    + "\"max_tokens\":5,\"temperature\":0}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            JsonNode usage = JSON.readTree(r.body()).get("usage");
            String metrics = get(base + "/metrics");
            assertTrue(metrics.contains("strata_completion_tokens_total " + usage.get("completion_tokens").asInt()
                    + ".0"), metrics);
            assertTrue(metrics.contains("strata_kv_pages{tier=\"fast\"} 0.0"), metrics);
            assertTrue(get(base + "/").contains("<svg id=\"occupancy\""));
        } finally {
            t[0].interrupt();
            t[0].join(10_000);
        }
        assertEquals(0, exit.get(10, TimeUnit.SECONDS), err.toString());
    }

    @Test
    void peerHttpCountsBytesServed() throws Exception {
        Path model = tmp.resolve("model");
        assertEquals(0, Cli.run("shard-convert", TestData.dir("fixtures/tiny-mixtral-f32").toString(),
                model.toString(), "-q").code());
        Thread[] t = new Thread[1];
        CompletableFuture<Integer> exit = new CompletableFuture<>();
        StringWriter err = new StringWriter();
        Matcher m = start(t, exit, err, Pattern.compile("listening on (\\S+)[\\s\\S]*status page on (http://\\S+)"
                + "|metrics and status page on (http://\\S+)[\\s\\S]*listening on (\\S+)"), "peer", "--model",
                model.toString(), "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0");
        try {
            String peer = m.group(1) != null ? m.group(1) : m.group(4);
            String base = m.group(2) != null ? m.group(2) : m.group(3);
            String before = get(base + "/metrics");
            assertTrue(before.contains("strata_peer_served_bytes_total 0.0"), before);
            Cli.Run f = Cli.run("fetch", model.resolve("manifest.json").toString(), "--peers", peer, "--out",
                    tmp.resolve("fetched").toString(), "--listen", "127.0.0.1:0");
            assertEquals(0, f.code(), f.err());
            Matcher served = Pattern.compile("(?m)^strata_peer_served_bytes_total (\\S+)$").matcher(get(base + "/metrics"));
            assertTrue(served.find());
            assertTrue(Double.parseDouble(served.group(1)) > 0, "no bytes served counted");
            JsonNode status = JSON.readTree(get(base + "/status.json"));
            assertEquals("peer", status.get("kind").asText());
            assertTrue(status.get("samples").get(status.get("samples").size() - 1).get("bytesServed").asLong() > 0);
        } finally {
            t[0].interrupt();
            t[0].join(10_000);
        }
        assertEquals(0, exit.get(10, TimeUnit.SECONDS), err.toString());
    }
}
