package io.strata.loader.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.strata.core.manifest.Manifest;
import io.strata.core.model.ExpertProjection;
import io.strata.core.model.Layout;
import io.strata.core.model.ModelFamily;
import io.strata.loader.cache.ExpertHandle;
import io.strata.storage.safetensors.Checkpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A manifest without expert groups (DOPPLER writes them so, and a GGUF file is read so): each expert is paged as
 * the byte ranges of its own three tensors, and reads the same bytes as the grouped model it came from.
 */
class UngroupedExpertsTest {
    static final int LAYERS = 2;
    static final int EXPERTS = 4;

    @TempDir
    Path tmp;

    @Test
    void expertsWithoutGroupsArePagedFromTheirTensorsRanges() throws Exception {
        TestModels.Model m = TestModels.mixtral(tmp, LAYERS, EXPERTS, 64, 96, Layout.ROW, 1);
        Path manifest = m.converted().resolve(Manifest.FILE_NAME);
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = (ObjectNode) json.readTree(manifest.toFile());
        root.remove("groups");
        for (Iterator<Map.Entry<String, com.fasterxml.jackson.databind.JsonNode>> it = root.path("tensors").fields();
             it.hasNext(); ) {
            Map.Entry<String, com.fasterxml.jackson.databind.JsonNode> e = it.next();
            ObjectNode t = (ObjectNode) e.getValue();
            String g = t.path("group").asText("");
            if (g.startsWith("expert.")) {
                String[] parts = g.split("\\.");
                t.put("group", "layer." + parts[1] + ".expert." + parts[2]); // DOPPLER's spelling
            }
        }
        Files.write(manifest, json.writeValueAsBytes(root));

        RuntimeOptions o = RuntimeOptions.builder().noDiskCache().prefetch(false)
                .hostBudget(3L * TestModels.expertBytes(m)).hostReserve(0).policy("lru").build();
        try (Checkpoint src = Checkpoint.open(m.source()); ModelRuntime rt = ModelRuntime.open(m.converted(), o)) {
            for (int round = 0; round < 2; round++) {
                for (int l = 0; l < LAYERS; l++) {
                    for (int e = 0; e < EXPERTS; e++) {
                        try (ExpertHandle h = rt.expert(l, e)) {
                            for (ExpertProjection p : ExpertProjection.values()) {
                                String name = TestModels.expertTensor(ModelFamily.MIXTRAL, l, e, p.key());
                                assertEquals(-1, src.tensor(name).data().mismatch(h.tensor(p).data()), name);
                                assertEquals(name, h.tensor(p).name());
                            }
                        }
                    }
                }
            }
            var host = rt.telemetry().tier(io.strata.core.model.Tier.HOST);
            org.junit.jupiter.api.Assertions.assertTrue(host.evictions() > 0, "paged under the budget: " + host);
            org.junit.jupiter.api.Assertions.assertTrue(host.highWater() <= host.budget());
        }
    }
}
