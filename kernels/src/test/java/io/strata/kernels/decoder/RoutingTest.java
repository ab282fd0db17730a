package io.strata.kernels.decoder;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class RoutingTest {
    @Test
    void traceLinesParseAsSharedTraceRecordsAndSkipDenseLayers() throws Exception {
        Routing r = new Routing(7, new int[][] {{3, 1}, null, {0, 5}}, new float[][] {{0.75f, 0.25f}, null, {0.5f, 0.5f}});
        String[] lines = r.toTraceJsonl().split("\n");
        assertEquals(2, lines.length);
        JsonNode a = new ObjectMapper().readTree(lines[0]);
        assertEquals(7, a.get("step").asInt());
        assertEquals(0, a.get("layer").asInt());
        assertEquals(3, a.get("experts").get(0).asInt());
        assertEquals(0.25, a.get("weights").get(1).asDouble(), 1e-9);
        assertEquals(2, new ObjectMapper().readTree(lines[1]).get("layer").asInt());
    }
}
