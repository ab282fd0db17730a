package io.strata.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The official {@code openai} npm client against the server on 127.0.0.1 (server/src/test/js/openai-e2e.mjs):
 * completion, chat, streamed chat, a bad request, two concurrent clients. Then /metrics agrees with what ran.
 */
class OpenAiClientTest {
    @Test
    void officialClientTalksToTheServer(@TempDir Path dir) throws Exception {
        NodeScripts.requireNode();
        try (ServerFixture f = new ServerFixture(dir, 2)) {
            NodeScripts.Run r = NodeScripts.node("openai-e2e.mjs",
                    Map.of("STRATA_URL", f.base, "STRATA_MODEL", ServerFixture.MODEL_ID), 180);
            assertEquals(0, r.code(), r.output());
            assertTrue(r.output().contains("\"ok\":true"), r.output());
            PromText m = PromText.parse(f.get("/metrics").body());
            assertEquals(10, m.get("strata_requests_total"), "requests the script made that reached generation");
            assertEquals(10, m.get("strata_requests_completed_total"));
            assertTrue(m.get("strata_requests_bad_total") >= 2);
        }
    }
}
