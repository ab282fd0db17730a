package io.strata.tools.commands;

import static io.strata.tools.commands.Cli.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.strata.core.manifest.Manifest;
import io.strata.core.manifest.ManifestCodec;
import io.strata.core.manifest.TensorInfo;
import io.strata.storage.convert.ConvertOptions;
import io.strata.storage.convert.ProgressListener;
import io.strata.storage.convert.ShardConverter;
import io.strata.testdata.TestData;
import io.strata.tools.commands.Cli.Run;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 11 end to end through the CLI: damaged model bytes, non-finite configs, out-of-domain sampling options,
 * absurd plans and a --force onto someone else's directory are each one clear line and a non-zero exit (never a
 * run that prints zeros, wrong tokens or a negative size and exits 0).
 */
class HostileInputsCliTest {
    static final Path FIXTURE = TestData.dir("fixtures/tiny-mixtral-f32");
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path tmp;
    static Path tiny;

    @BeforeAll
    static void convertFixture() {
        tiny = tmp.resolve("tiny");
        ShardConverter.convert(FIXTURE, tiny, ConvertOptions.defaults(), ProgressListener.NONE);
    }

    /** A copy of the converted fixture, with {@code edit} applied to its manifest's JSON. */
    static Path copyWith(String name, Consumer<ObjectNode> edit) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve(name));
        try (Stream<Path> s = Files.list(tiny)) {
            for (Path p : s.toList()) {
                Files.copy(p, dir.resolve(p.getFileName()));
            }
        }
        ObjectNode m = (ObjectNode) JSON.readTree(dir.resolve(Manifest.FILE_NAME).toFile());
        edit.accept(m);
        Files.write(dir.resolve(Manifest.FILE_NAME), JSON.writeValueAsBytes(m));
        return dir;
    }

    static Run generate(Path model, String... extra) {
        String[] base = {"run", model.toString(), "--prompt-ids", "1,2,3", "--max-new", "4", "--no-disk-cache"};
        String[] all = new String[base.length + extra.length];
        System.arraycopy(base, 0, all, 0, base.length);
        System.arraycopy(extra, 0, all, base.length, extra.length);
        return run(all);
    }

    static void oneLineError(Run r, int code, String... mustContain) {
        assertEquals(code, r.code(), r.out() + r.err());
        String first = r.err().lines().findFirst().orElse("");
        for (String s : mustContain) {
            assertTrue(first.contains(s), "'" + s + "' in: " + r.err());
        }
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
    }

    static void flip(Path file, long at) throws Exception {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(at);
            int b = f.read();
            f.seek(at);
            f.write(b ^ 0xff);
        }
    }

    @Test
    void flippedBytesInLmHeadAreAnErrorNotWrongTokens() throws Exception {
        Path model = copyWith("lm-head-flipped", m -> { });
        Manifest man = ManifestCodec.read(model);
        TensorInfo t = man.tensor("lm_head.weight");
        Path shard = model.resolve(man.shard(t.shard()).filename());
        flip(shard, t.offset() + t.size() / 3);
        oneLineError(generate(model), 1, "strata run: error:", shard.getFileName().toString(),
                "does not match its BLAKE3");
        assertEquals(0, generate(model, "--trust-local").code(), "--trust-local skips the check");
    }

    @Test
    void flippedBytesInAnExpertShardAreAnErrorNotNaNZeros() throws Exception {
        Path model = copyWith("expert-flipped", m -> { });
        Manifest man = ManifestCodec.read(model);
        var g = man.groups().get("expert.0.0");
        flip(model.resolve(man.shard(g.shard()).filename()), g.offset() + 5);
        Run r = generate(model, "--prompt-ids", "1,2,3,4,5,6,7,8");
        oneLineError(r, 1, "strata run: error:", man.shard(g.shard()).filename(), "chunk");
    }

    @Test
    void rmsNormEpsNaNInTheConfigIsNamed() throws Exception {
        Path model = copyWith("eps-nan", m -> ((ObjectNode) m.get("config")).put("rms_norm_eps", "NaN"));
        oneLineError(generate(model), 1, "rms_norm_eps", "finite positive");
    }

    @Test
    void numAttentionHeadsZeroNamesTheFieldNotDivisionByZero() throws Exception {
        Path model = copyWith("heads-0", m -> ((ObjectNode) m.get("config")).put("num_attention_heads", 0));
        oneLineError(generate(model), 1, "num_attention_heads", "positive");
    }

    @Test
    void aMissingConfigIsNamed() throws Exception {
        Path model = copyWith("no-config", m -> m.remove("config"));
        oneLineError(generate(model), 1, "'config'");
    }

    @Test
    void numExpertsOfIntMaxIsRefusedNotOutOfMemory() throws Exception {
        Path model = copyWith("experts-max", m -> ((ObjectNode) m.get("moeConfig")).put("numExperts",
                Integer.MAX_VALUE));
        oneLineError(generate(model), 1, "moeConfig.numExperts", "2147483647");
    }

    @Test
    void samplingOptionsOutsideTheirDomainAreUsageErrors() {
        for (String[] bad : new String[][]{{"--temperature", "-1"}, {"--temperature", "NaN"},
                {"--temperature", "Infinity"}, {"--top-p", "2"}, {"--top-p", "0"}, {"--top-p", "NaN"}}) {
            Run r = generate(tiny, bad);
            assertEquals(2, r.code(), String.join(" ", bad) + ": " + r.err());
            assertTrue(r.err().contains(bad[0]) && r.err().contains(bad[1]), r.err());
        }
        assertEquals(0, generate(tiny, "--temperature", "0.7", "--top-p", "0.9").code());
    }

    @Test
    void planWithBatchAndSeqOfIntMaxDoesNotFit() {
        Run r = run("plan", tiny.toString(), "--batch", "2147483647", "--seq", "2147483647");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("fits: no"), r.out());
        assertFalse(r.out().matches("(?s).*\\s-\\d.*"), "no negative size: " + r.out());
    }

    @Test
    void forceOntoAnUnrelatedNonEmptyDirectoryIsRefused() throws Exception {
        Path mine = Files.createDirectories(tmp.resolve("my-notes"));
        Files.writeString(mine.resolve("notes.txt"), "keep me");
        Run r = run("shard-convert", FIXTURE.toString(), mine.toString(), "--force", "-q");
        oneLineError(r, 1, "not a previous Strata output");
        assertEquals("keep me", Files.readString(mine.resolve("notes.txt")));
    }

    @Test
    void forceWithTheSourceReachedThroughASymlinkIntoOutIsRefused() throws Exception {
        Path out = copyWith("out-with-source", m -> { });
        Path inside = Files.createDirectories(out.resolve("checkpoint"));
        try (Stream<Path> s = Files.list(FIXTURE)) {
            for (Path p : s.toList()) {
                Files.copy(p, inside.resolve(p.getFileName()));
            }
        }
        Path link = Files.createSymbolicLink(tmp.resolve("link-to-checkpoint"), inside);
        Run r = run("shard-convert", link.toString(), out.toString(), "--force", "-q");
        oneLineError(r, 1, "would contain");
        assertTrue(Files.isDirectory(inside) && Files.list(inside).findAny().isPresent(), "source intact");
    }
}
