package io.strata.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The HTTP API without a client library: errors, stop strings, and a client that goes away mid-stream. */
class ServeApiTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    static Path dir;
    static ServerFixture f;

    @BeforeAll
    static void start() throws Exception {
        f = new ServerFixture(dir, 2);
    }

    @AfterAll
    static void stop() throws Exception {
        f.close();
    }

    private static JsonNode error(HttpResponse<String> r, int status, String param) throws Exception {
        assertEquals(status, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        JsonNode e = JSON.readTree(r.body()).get("error");
        assertNotNull(e, r.body());
        assertTrue(e.get("message").asText().length() > 5, r.body());
        assertFalse(r.body().contains("Exception"), "a stack trace or exception name leaked: " + r.body());
        if (param != null) {
            assertEquals(param, e.get("param").asText(), r.body());
        }
        return e;
    }

    @Test
    void badRequestsGetOpenAiErrors() throws Exception {
        assertEquals("invalid_request_error", error(f.post("/v1/chat/completions", "{not json"), 400, null)
                .get("type").asText());
        error(f.post("/v1/completions", "[1,2]"), 400, null);
        error(f.post("/v1/completions", "{\"prompt\":\"hi\",\"max_tokens\":0}"), 400, "max_tokens");
        error(f.post("/v1/completions", "{\"prompt\":\"hi\",\"temperature\":\"hot\"}"), 400, "temperature");
        error(f.post("/v1/completions", "{\"prompt\":\"hi\",\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}"), 400, "stop");
        error(f.post("/v1/completions", "{\"prompt\":[1,99999999]}"), 400, "prompt");
        error(f.post("/v1/chat/completions", "{\"messages\":[]}"), 400, "messages");
        error(f.post("/v1/chat/completions", "{\"messages\":[{\"role\":\"wizard\",\"content\":\"x\"}]}"), 400,
                "messages[0].role");
        // this template allows only alternating user/assistant: its raise_exception becomes a 400
        error(f.post("/v1/chat/completions", "{\"messages\":[{\"role\":\"assistant\",\"content\":\"x\"}]}"), 400,
                "messages");
        assertEquals("model_not_found", error(f.post("/v1/completions", "{\"model\":\"gpt-9\",\"prompt\":\"x\"}"),
                404, "model").get("code").asText());
        error(f.get("/v1/nothing"), 404, null);
        error(f.get("/v1/completions"), 405, null);
        String big = "{\"prompt\":\"" + "a".repeat(HttpFront.MAX_BODY) + "\"}";
        assertEquals("body_too_large", error(f.post("/v1/completions", big), 413, null).get("code").asText());
        // the server still answers after all that
        assertEquals(200, f.get("/health").statusCode());
        JsonNode models = JSON.readTree(f.get("/v1/models").body());
        assertEquals(ServerFixture.MODEL_ID, models.get("data").get(0).get("id").asText());
    }

    @Test
    void stopStringEndsTheTextBeforeIt() throws Exception {
        String req = "{\"prompt\":\"The weather today\",\"max_tokens\":24,\"temperature\":0";
        JsonNode full = JSON.readTree(f.post("/v1/completions", req + "}").body());
        String text = full.get("choices").get(0).get("text").asText();
        assertEquals("length", full.get("choices").get(0).get("finish_reason").asText());
        assertTrue(text.length() >= 6, "too little text to pick a stop string from: '" + text + "'");
        String stop = text.substring(text.length() / 2, text.length() / 2 + 2);
        String expected = text.substring(0, text.indexOf(stop));
        JsonNode cut = JSON.readTree(f.post("/v1/completions", req + ",\"stop\":" + JSON.writeValueAsString(stop)
                + "}").body());
        assertEquals(expected, cut.get("choices").get(0).get("text").asText());
        assertEquals("stop", cut.get("choices").get(0).get("finish_reason").asText());
        // streamed, the same text arrives, the stop string held back and never sent
        HttpResponse<String> s = f.post("/v1/completions", req + ",\"stream\":true,\"stop\":"
                + JSON.writeValueAsString(stop) + "}");
        assertTrue(s.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
        StringBuilder streamed = new StringBuilder();
        String finish = null;
        for (String line : s.body().split("\n")) {
            if (line.startsWith("data: {")) {
                JsonNode c = JSON.readTree(line.substring(6)).get("choices").get(0);
                streamed.append(c.get("text").asText());
                if (!c.get("finish_reason").isNull()) {
                    finish = c.get("finish_reason").asText();
                }
            }
        }
        assertTrue(s.body().trim().endsWith("data: [DONE]"), s.body());
        assertEquals(expected, streamed.toString());
        assertEquals("stop", finish);
    }

    @Test
    void clientGoneMidStreamFreesItsSequence() throws Exception {
        PromText before = PromText.parse(f.get("/metrics").body());
        String body = "{\"messages\":[{\"role\":\"user\",\"content\":\"Tell me a long story\"}],\"max_tokens\":4000,"
                + "\"temperature\":0.7,\"seed\":3,\"stream\":true}";
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        try (Socket s = new Socket("127.0.0.1", f.server.address().getPort())) {
            OutputStream out = s.getOutputStream();
            out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + bytes.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(bytes);
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
            int events = 0;
            for (String line; events < 3 && (line = in.readLine()) != null; ) {
                if (line.startsWith("data: {")) {
                    events++;
                }
            }
            assertEquals(3, events);
            assertEquals(1, f.engine.activeSequences(), "the stream should still be generating");
        } // closed: the client went away after a few tokens
        long deadline = System.nanoTime() + 30_000_000_000L;
        PromText after;
        do {
            after = PromText.parse(f.get("/metrics").body());
        } while ((after.get("strata_requests_cancelled_total") == before.get("strata_requests_cancelled_total")
                || after.get("strata_kv_pages", "tier", "fast") != 0) && System.nanoTime() < deadline);
        // (a KV page restore in flight when the client left may land just after the sequence closed; it must
        // still be freed: the bounded wait above is for that, the asserts below say what must hold)
        assertEquals(before.get("strata_requests_cancelled_total") + 1, after.get("strata_requests_cancelled_total"));
        assertEquals(0, f.engine.activeSequences());
        assertEquals(0, after.get("strata_kv_pages", "tier", "fast"), "the sequence's KV pages were not freed");
        assertEquals(0, after.get("strata_kv_held_bytes", "tier", "fast"));
        double generated = after.get("strata_completion_tokens_total") - before.get("strata_completion_tokens_total");
        assertTrue(generated < 4000, "generation ran on after the client left: " + generated + " tokens");
    }
}
