package io.strata.tools.commands;

import static io.strata.tools.commands.Cli.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.strata.core.hash.Blake3;
import io.strata.core.manifest.BundledFile;
import io.strata.core.manifest.Manifest;
import io.strata.core.manifest.ManifestCodec;
import io.strata.core.manifest.TokenizerInfo;
import io.strata.core.model.ModelFamily;
import io.strata.storage.synth.SyntheticCheckpoint;
import io.strata.tools.commands.Cli.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A converted model carries its tokenizer: copied, recorded with hashes, verified, and bad files named. */
class BundledTokenizerCliTest {
    @TempDir
    static Path tmp;
    static Path checkpoint;
    static Path model;

    @BeforeAll
    static void build() throws Exception {
        checkpoint = TextModels.checkpoint(tmp.resolve("ckpt"), "mistral-sp32k", ModelFamily.MIXTRAL,
                TextModels.MISTRAL_VOCAB);
        model = TextModels.convert(checkpoint, tmp.resolve("model"));
    }

    @Test
    void shardConvertCopiesTheTokenizerFilesAndRecordsTheirHashesInDopplersShape() throws Exception {
        Manifest m = ManifestCodec.read(model);
        TokenizerInfo t = m.tokenizer();
        assertEquals("bundled", t.type());
        assertEquals("tokenizer.json", t.file());
        assertEquals("bpe", t.tokenizerType());
        JsonNode src = new ObjectMapper().readTree(checkpoint.resolve("tokenizer.json").toFile());
        assertEquals(src.path("model").path("vocab").size(), t.vocabSize());
        assertEquals(List.of("tokenizer.json", "tokenizer_config.json", "chat_template.jinja"),
                t.files().stream().map(BundledFile::filename).toList(), "what the checkpoint has, nothing more");
        for (BundledFile f : t.files()) {
            byte[] original = Files.readAllBytes(checkpoint.resolve(f.filename()));
            assertEquals(-1, Files.mismatch(checkpoint.resolve(f.filename()), model.resolve(f.filename())));
            assertEquals(original.length, f.size());
            assertEquals(Blake3.hashHex(original), f.hash(), f.filename());
        }
        JsonNode raw = new ObjectMapper().readTree(model.resolve(Manifest.FILE_NAME).toFile()).get("tokenizer");
        assertEquals("bundled", raw.get("type").asText(), "DOPPLER's field names in the JSON itself");
        assertEquals("tokenizer.json", raw.get("file").asText());
    }

    @Test
    void verifyAndRunRefuseATamperedTokenizerAndAFileTheManifestDoesNotList() throws Exception {
        Path copy = tmp.resolve("tampered");
        Files.createDirectories(copy);
        try (var files = Files.list(model)) {
            for (Path f : files.toList()) {
                Files.copy(f, copy.resolve(f.getFileName()));
            }
        }
        Run ok = run("verify", copy.toString());
        assertEquals(0, ok.code(), ok.err());
        Path cfg = copy.resolve("tokenizer_config.json");
        String original = Files.readString(cfg);
        Files.writeString(cfg, original.replace("\"</s>\"", "\"</t>\""));
        assertNotEquals(original, Files.readString(cfg));

        Run verify = run("verify", copy.toString());
        assertNotEquals(0, verify.code());
        assertTrue(verify.err().contains("tokenizer_config.json: whole-file hash mismatch"), verify.err());
        Run r = run("run", copy.toString(), "--prompt", "hi", "--no-disk-cache");
        assertEquals(1, r.code());
        assertEquals("strata run: error: " + cfg + ": whole-file hash mismatch (the manifest's tokenizer.files;"
                + " run strata verify)", r.err().strip());

        Files.writeString(cfg, original);
        Path extra = copy.resolve("generation_config.json");
        Files.writeString(extra, "{\"eos_token_id\": 5}");
        Run unlisted = run("run", copy.toString(), "--prompt", "hi", "--no-disk-cache");
        assertEquals(1, unlisted.code());
        assertTrue(unlisted.err().strip().startsWith("strata run: error: " + extra + ": not among the manifest's"
                + " tokenizer.files"), unlisted.err());
        assertEquals(1, unlisted.err().strip().lines().count());
    }

    /** A tiny model whose checkpoint ships {@code tokenizerJson}; run --prompt's one-line error. */
    private static String runError(String name, String tokenizerJson) throws Exception {
        Path ckpt = tmp.resolve(name + "-ckpt");
        SyntheticCheckpoint.builder().vocab(256).write(ckpt);
        Files.writeString(ckpt.resolve("tokenizer.json"), tokenizerJson);
        Path out = TextModels.convert(ckpt, tmp.resolve(name));
        Run r = run("run", out.toString(), "--prompt", "ab", "--no-disk-cache");
        assertEquals(1, r.code(), r.out());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        return r.err().strip();
    }

    @Test
    void aTokenizerTheLibraryCannotRunIsAOneLineErrorNamingTheFileAndTheField() throws Exception {
        assertEquals("strata run: error: " + tmp.resolve("wordpiece").resolve("tokenizer.json")
                        + ": model.type: model type 'WordPiece' is not supported (supported: BPE)",
                runError("wordpiece", "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"a\": 0, \"b\": 1}}}"));
        assertEquals("strata run: error: " + tmp.resolve("merges").resolve("tokenizer.json")
                        + ": model.merges[1]: malformed merge 'abc' (expected \"left right\")",
                runError("merges", "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1, \"ab\": 2},"
                        + " \"merges\": [\"a b\", \"abc\"]}}"));
        Path notJson = tmp.resolve("notjson-ckpt");
        SyntheticCheckpoint.builder().vocab(256).write(notJson);
        Files.writeString(notJson.resolve("tokenizer.json"), "{\"model\": ");
        Run convert = run("shard-convert", notJson.toString(), tmp.resolve("notjson").toString(), "-q");
        assertEquals(1, convert.code());
        assertTrue(convert.err().contains(notJson.resolve("tokenizer.json") + ": not valid JSON"), convert.err());
        assertTrue(Files.notExists(tmp.resolve("notjson")), "nothing left at OUT");
    }
}
