package io.strata.tools.commands;

import io.strata.testdata.TestData;

import static io.strata.tools.commands.Cli.run;

import io.strata.tools.commands.Cli.Run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.strata.core.manifest.Manifest;
import io.strata.core.manifest.ManifestCodec;
import io.strata.core.model.DType;
import io.strata.core.model.ModelFamily;
import io.strata.storage.convert.ConvertOptions;
import io.strata.storage.convert.ProgressListener;
import io.strata.storage.convert.ShardConverter;
import io.strata.storage.synth.SyntheticCheckpoint;
import io.strata.tools.generate.Generator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code strata run} end to end on real converted models: fidelity to the PyTorch reference, and paging (budgets
 * that force experts in and out every layer) changing not one bit of the logits.
 */
class RunCommandTest {
    static final Path FIXTURE = TestData.dir("fixtures/tiny-mixtral-f32");
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path tmp;
    static Path tiny;
    static JsonNode reference;

    @BeforeAll
    static void convertFixture() throws Exception {
        tiny = tmp.resolve("tiny");
        ShardConverter.convert(FIXTURE, tiny, ConvertOptions.defaults(), new ProgressListener() { });
        reference = JSON.readTree(FIXTURE.resolve("reference.json").toFile());
    }

    static String ids(JsonNode array) {
        List<String> l = new ArrayList<>();
        array.forEach(n -> l.add(n.asText()));
        return String.join(",", l);
    }

    static JsonNode runJson(Path model, int maxNew, String prompt, String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of("run", model.toString(), "--prompt-ids", prompt,
                "--max-new", String.valueOf(maxNew), "--json", "--no-disk-cache"));
        args.addAll(List.of(extra));
        Run r = run(args.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        return JSON.readTree(r.out());
    }

    static float[][] logits(JsonNode result) {
        JsonNode l = result.get("logits");
        float[][] out = new float[l.size()][];
        for (int i = 0; i < l.size(); i++) {
            out[i] = new float[l.get(i).size()];
            for (int j = 0; j < out[i].length; j++) {
                out[i][j] = (float) l.get(i).get(j).asDouble();
            }
        }
        return out;
    }

    /** Smallest host budget the run accepts: dense weights plus one layer's top-k experts. */
    static long tightHostBudget(Path model) {
        Manifest m = ManifestCodec.read(model);
        return Generator.denseBytes(m) + (long) m.moeConfig().numExpertsPerToken() * m.moeConfig().expertBytes();
    }

    @Test
    void matchesThePyTorchReferenceUnlimitedAndWhenPagingEveryLayer() throws Exception {
        String prompt = ids(reference.get("prompt"));
        int steps = reference.get("generated").size();
        JsonNode unlimited = runJson(tiny, steps, prompt);
        assertEquals(ids(reference.get("generated")), ids(unlimited.get("generated")));
        float[][] got = logits(unlimited);
        assertEquals(steps, got.length);
        for (int s = 0; s < steps; s++) {
            JsonNode want = reference.get("steps").get(s).get("logits");
            float max = 0;
            for (JsonNode v : want) {
                max = Math.max(max, Math.abs((float) v.asDouble()));
            }
            for (int i = 0; i < want.size(); i++) {
                assertEquals(want.get(i).asDouble(), got[s][i], 1e-3 * max, "step " + s + " logit " + i);
            }
        }

        long tight = tightHostBudget(tiny);
        JsonNode paged = runJson(tiny, steps, prompt, "--host-budget", String.valueOf(tight));
        assertEquals(ids(unlimited.get("generated")), ids(paged.get("generated")));
        float[][] pagedLogits = logits(paged);
        for (int s = 0; s < steps; s++) {
            assertArrayEquals(got[s], pagedLogits[s], "paging changed logits at step " + s);
        }
        JsonNode host = paged.get("stats").get("tiers").get("host");
        int experts = 2 * reference.get("generated").size();
        assertTrue(host.get("evictions").asLong() >= experts,
                "a budget of one layer's experts must evict every layer: " + host);
        assertTrue(host.get("highWater").asLong() <= tight, "host high-water " + host.get("highWater") + " > " + tight);

        JsonNode device = runJson(tiny, steps, prompt, "--host-budget", String.valueOf(tight),
                "--device-budget", String.valueOf(tight), "--no-prefetch");
        assertEquals(ids(unlimited.get("generated")), ids(device.get("generated")));
        float[][] deviceLogits = logits(device);
        for (int s = 0; s < steps; s++) {
            assertArrayEquals(got[s], deviceLogits[s], "the device tier changed logits at step " + s);
        }
    }

    @Test
    void aBudgetBelowOneLayersExpertsIsAClearError() {
        long tooSmall = tightHostBudget(tiny) - 1;
        Run r = run("run", tiny.toString(), "--prompt-ids", "1,2,3", "--max-new", "2", "--no-disk-cache",
                "--host-budget", String.valueOf(tooSmall));
        assertEquals(1, r.code());
        assertTrue(r.err().contains("--host-budget") && r.err().contains("top-2 experts"), r.err());
        assertEquals("", r.out());
    }

    @Test
    void bf16ModelWithExpertsFourTimesTheHostBudgetGeneratesTheSameTokens() throws Exception {
        Path src = tmp.resolve("bf16-src");
        SyntheticCheckpoint.builder().family(ModelFamily.MIXTRAL).dtype(DType.BF16).hidden(96).intermediate(192)
                .layers(3).heads(4).kvHeads(2).headDim(24).experts(8).topK(2).vocab(320).shards(2)
                .routerSkew(0.5).seed(7).write(src);
        Path model = tmp.resolve("bf16");
        ShardConverter.convert(src, model, ConvertOptions.defaults(), new ProgressListener() { });
        Manifest m = ManifestCodec.read(model);
        long allExperts = m.moeConfig().expertBytes() * m.moeConfig().numExperts() * 3;
        long budget = Generator.denseBytes(m) + allExperts / 4;
        assertTrue(allExperts >= 4 * (budget - Generator.denseBytes(m)));
        JsonNode unlimited = runJson(model, 12, "5,9,300,17");
        JsonNode paged = runJson(model, 12, "5,9,300,17", "--host-budget", String.valueOf(budget));
        assertEquals(ids(unlimited.get("generated")), ids(paged.get("generated")));
        float[][] a = logits(unlimited);
        float[][] b = logits(paged);
        for (int s = 0; s < a.length; s++) {
            assertArrayEquals(a[s], b[s], "step " + s);
        }
        assertTrue(paged.get("stats").get("tiers").get("host").get("evictions").asLong() > 0);
    }

    @Test
    void kvBudgetOfATenthSpillsAndRestoresBitExact() throws Exception {
        String prompt = ids(reference.get("prompt"));
        // 405 positions x 2 layers x (K+V) x 32 floats x 4 B = 207 KB of KV; 20 KiB holds a tenth of it (the
        // 16-token window of both layers and the pages attention pins need 3-4 pages of 4 KiB).
        JsonNode unlimited = runJson(tiny, 400, prompt);
        for (String codec : new String[]{"lz4", "zstd"}) {
            JsonNode spilled = runJson(tiny, 400, prompt, "--kv-budget", "20KiB", "--kv-codec", codec,
                    "--cache-dir", tmp.resolve("kv-" + codec).toString());
            assertEquals(ids(unlimited.get("generated")), ids(spilled.get("generated")), codec);
            float[][] a = logits(unlimited);
            float[][] b = logits(spilled);
            for (int s = 0; s < a.length; s++) {
                assertArrayEquals(a[s], b[s], codec + " step " + s);
            }
            JsonNode kv = spilled.get("stats").get("kv");
            assertTrue(kv.get("bytesSpilled").asLong() > 0 && kv.get("bytesRestored").asLong() > 0, kv.toString());
            try (var left = Files.list(tmp.resolve("kv-" + codec).resolve("kv-spill"))) {
                assertEquals(0, left.count(), "spill directory emptied after the run");
            }
        }
    }

    @Test
    void aTensorParallelConversionIsRefusedWithTheReason() {
        Path tp2 = tmp.resolve("tp2");
        assertEquals(0, run("shard-convert", FIXTURE.toString(), tp2.toString(), "--layout", "column", "--tp", "2",
                "-q").code());
        Run r = run("run", tp2.toString(), "--prompt-ids", "1,2", "--max-new", "1", "--no-disk-cache");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("--tp 2") && r.err().contains("single rank"), r.err());
    }

    @Test
    void withNothingLocalExpertsArePagedFromAPeerAndGiveTheSameLogits() throws Exception {
        String prompt = ids(reference.get("prompt"));
        JsonNode local = runJson(tiny, 4, prompt);
        String hash = io.strata.core.hash.Blake3.hashHex(Files.readAllBytes(tiny.resolve("manifest.json")));
        try (io.strata.p2p.node.PeerNode seed = io.strata.p2p.node.PeerNode.start(
                new io.strata.p2p.node.NodeConfig().bind("127.0.0.1", 0))) {
            seed.models().add(io.strata.p2p.store.LocalModel.openServing(tiny, null));
            JsonNode meshed = runJson(Path.of(hash), 4, prompt, "--peers", "127.0.0.1:" + seed.listenPort(),
                    "--host-budget", String.valueOf(tightHostBudget(tiny)));
            assertEquals(ids(local.get("generated")), ids(meshed.get("generated")));
            float[][] a = logits(local);
            float[][] b = logits(meshed);
            for (int s = 0; s < a.length; s++) {
                assertArrayEquals(a[s], b[s], "mesh-paged step " + s);
            }
            JsonNode peer = meshed.get("stats").get("tiers").get("peer");
            assertTrue(peer.get("bytesIn").asLong() > 0 && seed.chunksServed() > 0, meshed.get("stats").toString());
        }
    }

    @Test
    void plainOutputIsTheTokenIds() throws Exception {
        Run r = run("run", tiny.toString(), "--prompt-ids", ids(reference.get("prompt")), "--max-new", "4",
                "--no-disk-cache", "--stats");
        assertEquals(0, r.code(), r.err());
        assertEquals(ids(reference.get("generated")), r.out().strip());
        assertTrue(r.err().contains("tokens/s") && r.err().contains("host"), r.err());
        assertTrue(Files.isDirectory(tiny));
    }

    @Test
    void withNoBudgetFlagsRunFitsToFreeMemoryAndSaysWhatItChose() throws Exception {
        Run r = run("run", tiny.toString(), "--prompt-ids", ids(reference.get("prompt")), "--max-new", "2",
                "--no-disk-cache");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("host budget") && r.err().contains("(fit: MemAvailable")
                && r.err().contains("reserve"), r.err());
        Run given = run("run", tiny.toString(), "--prompt-ids", ids(reference.get("prompt")), "--max-new", "2",
                "--no-disk-cache", "--host-budget", "64MiB");
        assertEquals(0, given.code(), given.err());
        assertTrue(!given.err().contains("(fit:"), "an explicit budget is not refitted: " + given.err());
    }
}
