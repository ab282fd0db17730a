package io.strata.tools.commands;

import io.strata.testdata.TestData;

import static io.strata.tools.commands.Cli.run;

import io.strata.tools.commands.Cli.Run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.strata.core.model.DType;
import io.strata.storage.convert.ConvertOptions;
import io.strata.storage.convert.ProgressListener;
import io.strata.storage.convert.ShardConverter;
import io.strata.storage.synth.SyntheticCheckpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RuntimeCommandsTest {
    static final Path DATA = TestData.root();

    @Test
    void planPrintsFiguresForAConfig(@TempDir Path dir) throws Exception {
        Path cfg = dir.resolve("config.json");
        Files.writeString(cfg, """
                {"model_type":"mixtral","hidden_size":4096,"intermediate_size":14336,"num_hidden_layers":32,
                 "num_attention_heads":32,"num_key_value_heads":8,"vocab_size":32000,"num_local_experts":8,
                 "num_experts_per_tok":2,"torch_dtype":"bfloat16"}""");
        Run r = run("plan", cfg.toString(), "--seq", "4096", "--device-mem", "24GiB", "--host-mem", "64GiB", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertEquals(536_870_912L, j.get("kvBytes").asLong()); // 32 x 2 x 8 x 128 x 4096 x 2
        assertEquals(90_194_313_216L, j.get("expertBytes").asLong());
        assertEquals(1, j.get("deviceExpertsPerLayer").asInt());
        Run text = run("plan", dir.toString(), "--tp", "2");
        assertEquals(0, text.code(), text.err());
        assertTrue(text.out().contains("kv cache"), text.out());
        Run bad = run("plan", dir.resolve("nope").toString());
        assertEquals(1, bad.code());
        assertTrue(bad.err().contains("nope"), bad.err());
    }

    @Test
    void traceReplayPrintsJsonPerPolicy() throws Exception {
        Path trace = DATA.resolve("traces/mixtral-8x7b-gsm8k-p0.jsonl");
        Run r = run("trace-replay", trace.toString(), "--capacity", "64", "--policy", "lru", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode j = new ObjectMapper().readTree(r.out().strip());
        assertEquals("lru", j.get("policy").asText());
        assertEquals(0.29, j.get("hitRate").asDouble(), 0.04);
        assertEquals(0.58, j.get("belady").asDouble(), 0.05);
        assertEquals(j.get("hitRate").asDouble() / j.get("belady").asDouble(), j.get("ratio").asDouble(), 1e-9);
        Run all = run("trace-replay", trace.toString(), "--capacity", "32,64", "--policy", "all");
        assertEquals(0, all.code(), all.err());
        for (String p : io.strata.loader.policy.Policies.NAMES) {
            assertTrue(all.out().contains(p), all.out());
        }
        Run bad = run("trace-replay", trace.toString(), "--capacity", "8", "--policy", "fifo");
        assertEquals(1, bad.code());
        assertTrue(bad.err().contains("unknown cache policy 'fifo'"), bad.err());
    }

    @Test
    void benchPageInMeasuresBothPaths(@TempDir Path dir) throws Exception {
        Path src = dir.resolve("src");
        Path out = dir.resolve("model");
        SyntheticCheckpoint.builder().dtype(DType.F32).hidden(64).intermediate(64).layers(2).heads(4).kvHeads(2)
                .headDim(16).experts(4).topK(2).vocab(64).seed(3).write(src);
        ShardConverter.convert(src, out, ConvertOptions.defaults().withShardSize(128 << 10), ProgressListener.NONE);
        Run r = run("bench", "page-in", out.toString(), "--rounds", "1", "--host-mem", "4MiB", "--stats");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("warm sequential read"), r.out());
        assertTrue(r.out().contains("page-in / sequential read of the same round") && r.out().contains("of buffered"),
                r.out());
        assertTrue(r.out().contains("host"), r.out());
    }
}
