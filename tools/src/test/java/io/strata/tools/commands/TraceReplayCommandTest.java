package io.strata.tools.commands;

import static io.strata.tools.commands.Cli.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.strata.testdata.TestData;
import io.strata.tools.commands.Cli.Run;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class TraceReplayCommandTest {
    static final Path DEEPSEEK = TestData.root().resolve("traces/deepseek-v2-lite/esft-translation-sample02.jsonl");

    @Test
    void percentagesCountAllTheTracesExpertsAndTheDefaultIsNextVisit() throws Exception {
        Run r = run("trace-replay", DEEPSEEK.toString(), "--capacity", "25%,416", "--json");
        assertEquals(0, r.code(), r.err());
        String[] lines = r.out().strip().split("\n");
        assertEquals(2, lines.length, r.out());
        ObjectMapper json = new ObjectMapper();
        JsonNode pct = json.readTree(lines[0]);
        JsonNode abs = json.readTree(lines[1]);
        assertEquals("next-visit", pct.get("policy").asText());
        assertEquals(416, pct.get("capacity").asInt(), "25 % of 26 layers x 64 experts");
        assertEquals(abs.get("hitRate").asDouble(), pct.get("hitRate").asDouble());
        assertTrue(pct.get("ratio").asDouble() > 0.7 && pct.get("ratio").asDouble() <= 1, r.out());
    }

    @Test
    void theOldPolicyNameStillWorksUnderItsNewName() throws Exception {
        Run r = run("trace-replay", DEEPSEEK.toString(), "--capacity", "64", "--policy", "moe", "--json");
        assertEquals(0, r.code(), r.err());
        assertEquals("reuse-distance", new ObjectMapper().readTree(r.out()).get("policy").asText());
    }

    @Test
    void aBadCapacityIsAUsageError() throws Exception {
        for (String bad : new String[]{"0", "150%", "lots", "-3"}) {
            Run r = run("trace-replay", DEEPSEEK.toString(), "--capacity", bad);
            assertEquals(2, r.code(), bad + ": " + r.err());
            assertTrue(r.err().contains("--capacity: '" + bad + "'"), r.err());
        }
    }
}
