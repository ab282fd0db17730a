package io.strata.tools.commands;

import static io.strata.tools.commands.Cli.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.strata.core.model.ModelFamily;
import io.strata.storage.convert.ConvertOptions;
import io.strata.storage.convert.ProgressListener;
import io.strata.storage.convert.ShardConverter;
import io.strata.testdata.TestData;
import io.strata.text.Tokenizer;
import io.strata.tools.StrataCli;
import io.strata.tools.commands.Cli.Run;
import io.strata.tools.generate.FlushRecorder;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code strata run --prompt TEXT}: the model's own tokenizer in, streamed text out, EOS stops. */
class RunTextTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PROMPT = "Bonjour, le café est prêt ☕ et 世界";

    @TempDir
    static Path tmp;
    static Path checkpoint;
    static Path model;
    static Tokenizer tok;

    @BeforeAll
    static void build() throws Exception {
        checkpoint = TextModels.checkpoint(tmp.resolve("ckpt"), "mistral-sp32k", ModelFamily.MIXTRAL,
                TextModels.MISTRAL_VOCAB);
        model = TextModels.convert(checkpoint, tmp.resolve("model"));
        tok = Tokenizer.load(TestData.dir("tokenizers/mistral-sp32k"));
    }

    private static JsonNode json(Path m, String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of("run", m.toString(), "--prompt", PROMPT, "--no-disk-cache",
                "--json"));
        args.addAll(List.of(extra));
        Run r = run(args.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        return JSON.readTree(r.out());
    }

    private static int[] ids(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).asInt();
        }
        return out;
    }

    @Test
    void theTextIsEncodedWithTheModelsTokenizerAndTheReplyStreamedAsItIsGenerated() throws Exception {
        JsonNode j = json(model, "--max-new", "12");
        assertEquals(Arrays.toString(tok.encode(PROMPT, true)), Arrays.toString(ids(j.get("prompt"))),
                "the prompt ids are the tokenizer's, BOS included");
        int[] generated = ids(j.get("generated"));
        assertEquals(12, generated.length);
        assertEquals("max-new", j.get("stop").asText());
        assertEquals(tok.decode(generated, true), j.get("text").asText(), "--json's text is the generated ids' text");

        FlushRecorder rec = new FlushRecorder();
        CommandLine cl = StrataCli.commandLine();
        cl.setOut(new PrintWriter(rec));
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        int code = cl.execute("run", model.toString(), "--prompt", PROMPT, "--no-disk-cache", "--max-new", "12");
        assertEquals(0, code, err.toString());
        rec.flush();
        String streamed = String.join("", rec.chunks);
        assertEquals(tok.decode(generated, true) + System.lineSeparator(), streamed,
                "the streamed text is the whole decode: nothing printed twice, nothing lost");
        assertTrue(rec.chunks.size() >= 4, "written and flushed token by token, not at the end: " + rec.chunks);
        for (String c : rec.chunks) {
            assertFalse(Character.isLowSurrogate(c.charAt(0)), "no character is split between flushes: " + rec.chunks);
        }
    }

    @Test
    void generationStopsAtAStopIdAndAtTheEosOfGenerationConfig() throws Exception {
        int[] free = ids(json(model, "--max-new", "10").get("generated"));
        int i = free.length - 1;
        for (int k = 1; k < free.length; k++) { // the first token that did not come earlier: stopping there cuts
            int token = free[k];
            if (Arrays.stream(free, 0, k).noneMatch(x -> x == token)) {
                i = k;
                break;
            }
        }
        int eos = free[i];
        int[] want = Arrays.copyOf(free, i + 1);

        JsonNode stopped = json(model, "--max-new", "10", "--stop", String.valueOf(eos));
        assertEquals(Arrays.toString(want), Arrays.toString(ids(stopped.get("generated"))));
        assertEquals("eos", stopped.get("stop").asText());

        // the same id as the model's EOS, named by the checkpoint's generation_config.json and converted with it
        Path ckpt2 = tmp.resolve("ckpt-eos");
        Files.createDirectories(ckpt2);
        try (var files = Files.list(checkpoint)) {
            for (Path f : files.toList()) {
                Files.copy(f, ckpt2.resolve(f.getFileName()));
            }
        }
        Files.writeString(ckpt2.resolve("generation_config.json"), "{\"eos_token_id\": [2, " + eos + "]}");
        Path model2 = TextModels.convert(ckpt2, tmp.resolve("model-eos"));
        assertTrue(Files.exists(model2.resolve("generation_config.json")), "copied with the tokenizer");
        JsonNode byEos = json(model2, "--max-new", "10");
        assertEquals(Arrays.toString(want), Arrays.toString(ids(byEos.get("generated"))));
        assertEquals("eos", byEos.get("stop").asText());
        assertEquals(tok.decode(want, true), byEos.get("text").asText());
    }

    @Test
    void anInvalidUtf8PromptFileIsAOneLineErrorNamingTheFileAndTheOffset() throws Exception {
        Path f = tmp.resolve("prompt.txt");
        Files.write(f, new byte[]{'c', 'a', 'f', (byte) 0xC3, '('});
        Run r = run("run", model.toString(), "--prompt-file", f.toString(), "--no-disk-cache");
        assertEquals(1, r.code());
        assertEquals("strata run: error: " + f + ": invalid UTF-8 at byte offset 3", r.err().strip());
    }

    @Test
    void promptIdsKeepTheIdBehaviourAndATextPromptOnAModelWithoutTokenizerSaysHow() throws Exception {
        Path plain = tmp.resolve("no-tokenizer");
        ShardConverter.convert(TestData.dir("fixtures/tiny-mixtral-f32"), plain, ConvertOptions.defaults(),
                new ProgressListener() { });
        Run ids = run("run", plain.toString(), "--prompt-ids", "1,2,3", "--max-new", "3", "--no-disk-cache");
        assertEquals(0, ids.code(), ids.err());
        assertTrue(ids.out().strip().matches("\\d+,\\d+,\\d+"), ids.out());

        Run text = run("run", plain.toString(), "--prompt", "1,2,3", "--no-disk-cache");
        assertEquals(1, text.code());
        assertEquals(1, text.err().strip().lines().filter(l -> l.contains("error")).count(), text.err());
        assertTrue(text.err().contains("no tokenizer") && text.err().contains("--prompt-ids 1,2,3"), text.err());

        Run hinted = run("run", model.toString(), "--prompt", "1,2,3", "--max-new", "2", "--no-disk-cache");
        assertEquals(0, hinted.code(), hinted.err());
        assertTrue(hinted.err().contains("--prompt takes text now"), hinted.err());

        Run both = run("run", model.toString(), "--prompt", "a", "--prompt-ids", "1");
        assertEquals(2, both.code(), "one prompt only: a usage error");
    }
}
