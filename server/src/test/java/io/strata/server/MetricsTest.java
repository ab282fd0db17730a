package io.strata.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code /metrics} parses as Prometheus text, and its counters move by what a request did. */
class MetricsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void metricsParseAndMoveWithARequest(@TempDir Path dir) throws Exception {
        try (ServerFixture f = new ServerFixture(dir, 1)) {
            HttpResponse<String> r0 = f.get("/metrics");
            assertEquals(200, r0.statusCode());
            assertTrue(r0.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
            PromText m0 = PromText.parse(r0.body());
            assertEquals(9L << 20, (long) m0.get("strata_tier_budget_bytes", "tier", "host"));
            assertEquals("histogram", m0.types.get("strata_page_in_seconds"));

            HttpResponse<String> c = f.post("/v1/completions",
                    "{\"model\":\"" + ServerFixture.MODEL_ID + "\",\"prompt\":\"Once upon a time\",\"max_tokens\":6,"
                            + "\"temperature\":0}");
            assertEquals(200, c.statusCode(), c.body());
            JsonNode usage = JSON.readTree(c.body()).get("usage");

            PromText m1 = PromText.parse(f.get("/metrics").body());
            assertEquals(m0.get("strata_requests_total") + 1, m1.get("strata_requests_total"));
            assertEquals(m0.get("strata_completion_tokens_total") + usage.get("completion_tokens").asInt(),
                    m1.get("strata_completion_tokens_total"));
            assertEquals(m0.get("strata_prompt_tokens_total") + usage.get("prompt_tokens").asInt(),
                    m1.get("strata_prompt_tokens_total"));
            double lookups0 = m0.sum("strata_tier_hits_total") + m0.sum("strata_tier_misses_total");
            double lookups1 = m1.sum("strata_tier_hits_total") + m1.sum("strata_tier_misses_total");
            assertTrue(lookups1 > lookups0, "expert lookups did not move: " + lookups0 + " -> " + lookups1);
            assertTrue(m1.get("strata_page_in_seconds_count") > m0.get("strata_page_in_seconds_count"),
                    "no page-in recorded");
            assertTrue(m1.get("strata_tier_paged_in_bytes_total", "tier", "host")
                    > m0.get("strata_tier_paged_in_bytes_total", "tier", "host"));
            assertTrue(m1.get("strata_tier_high_water_bytes", "tier", "host") > 0);
            assertTrue(m1.get("strata_decode_tokens_per_second") > 0);
            // the sequence is closed: its KV pages are gone
            assertEquals(0, m1.get("strata_kv_pages", "tier", "fast"));
        }
    }
}
