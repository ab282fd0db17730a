package io.strata.tools.commands;

import io.strata.testdata.TestData;

import static io.strata.tools.commands.Cli.run;

import io.strata.tools.commands.Cli.Run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.core.hash.Blake3;
import io.strata.core.manifest.Manifest;
import io.strata.core.manifest.ManifestCodec;
import io.strata.storage.model.ConvertedModel;
import io.strata.storage.synth.SyntheticCheckpoint;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The commands run in-process through the real command line, on real files. */
class ConvertCommandsTest {
    static final Path FIXTURE = TestData.dir("fixtures/tiny-mixtral-f32");

    @TempDir
    Path tmp;

    @Test
    void convertVerifyInspect() throws Exception {
        Path out = tmp.resolve("m");
        Run c = run("shard-convert", FIXTURE.toString(), out.toString(), "--layout", "column", "--tp", "2",
                "--shard-size", "256KiB", "--chunk-size", "64KiB");
        assertEquals(0, c.code(), c.err());
        String hash = Blake3.hashHex(Files.readAllBytes(out.resolve("manifest.json")));
        assertTrue(c.out().contains("converted 41 tensors") && c.out().contains(hash), c.out());
        assertEquals("", c.err(), "not a terminal: no progress bar");
        Manifest m = ManifestCodec.read(out);
        assertTrue(m.shards().stream().allMatch(s -> s.size() <= 256 << 10), "--shard-size respected");
        assertTrue(m.shards().size() > 2);
        assertEquals(64 << 10, m.chunkSize());

        Run v = run("verify", out.toString());
        assertEquals(0, v.code(), v.err());
        assertTrue(v.out().startsWith("OK: " + m.shards().size() + " shards"), v.out());

        Run i = run("inspect", out.toString());
        assertEquals(0, i.code(), i.err());
        assertTrue(i.out().contains("MixtralForCausalLM") && i.out().contains(hash), i.out());
        assertTrue(i.out().contains("layout column, TP 2"), i.out());
        assertTrue(i.out().contains("4 experts per layer, top-2, 2 MoE layers"), i.out());
        assertTrue(i.out().contains("  expert           24"), i.out());
        assertTrue(i.out().contains("layer 1") && i.out().contains("model.layers.1.self_attn.o_proj.weight"), i.out());
        for (var s : m.shards()) {
            assertTrue(i.out().contains(s.filename()) && i.out().contains(s.hash()), "shard table: " + s.filename());
        }
        Run brief = run("inspect", out.toString(), "--brief");
        assertFalse(brief.out().contains("model.layers.1.self_attn.o_proj.weight"));
    }

    @Test
    void verifyNamesTheDamagedShardAndChunk() throws Exception {
        Path src = tmp.resolve("src");
        SyntheticCheckpoint.builder().hidden(128).intermediate(256).write(src);
        Path out = tmp.resolve("m");
        assertEquals(0, run("shard-convert", src.toString(), out.toString(), "--chunk-size", "8KiB", "-q").code());
        Manifest m = ManifestCodec.read(out);
        var shard = m.shards().getLast();
        try (RandomAccessFile f = new RandomAccessFile(out.resolve(shard.filename()).toFile(), "rw")) {
            long pos = 2 * 8192 + 5;
            f.seek(pos);
            int b = f.read();
            f.seek(pos);
            f.write(b ^ 0x80);
        }
        Run v = run("verify", out.toString());
        assertEquals(1, v.code());
        assertTrue(v.err().contains("shard " + shard.index() + " (" + shard.filename() + ") chunk 2 [16384, 24576)")
                && v.err().contains("chunk hash mismatch") && v.err().contains("FAILED"), v.err());
    }

    @Test
    void errorsAreOneLineAndLeaveNothing() throws Exception {
        Path out = tmp.resolve("m");
        Files.createDirectories(out);
        Run exists = run("shard-convert", FIXTURE.toString(), out.toString());
        assertEquals(1, exists.code());
        assertTrue(exists.err().startsWith("strata shard-convert: error: ") && exists.err().contains("--force"),
                exists.err());
        assertEquals(1, exists.err().strip().lines().count());

        Run tp = run("shard-convert", FIXTURE.toString(), tmp.resolve("x").toString(), "--layout", "column",
                "--tp", "3");
        assertEquals(1, tp.code());
        assertTrue(tp.err().contains("not divisible by --tp 3"), tp.err());
        assertFalse(Files.exists(tmp.resolve("x")));

        Run layout = run("shard-convert", FIXTURE.toString(), tmp.resolve("y").toString(), "--layout", "diagonal");
        assertEquals(1, layout.code());
        assertTrue(layout.err().contains("--layout: 'diagonal'"), layout.err());

        Run size = run("shard-convert", FIXTURE.toString(), tmp.resolve("z").toString(), "--shard-size", "lots");
        assertEquals(1, size.code());
        assertTrue(size.err().contains("--shard-size"), size.err());

        Run noManifest = run("verify", tmp.toString());
        assertEquals(1, noManifest.code());
        assertTrue(noManifest.err().contains("manifest.json"), noManifest.err());
        try (var s = Files.list(tmp)) {
            assertEquals(List.of(out), s.toList(), "only the directory that was already there");
        }
    }

    @Test
    void forceReplacesAndOutputRoundTrips() throws Exception {
        Path out = tmp.resolve("m");
        assertEquals(0, run("shard-convert", FIXTURE.toString(), out.toString(), "-q").code());
        Run again = run("shard-convert", FIXTURE.toString(), out.toString(), "--force", "--layout", "column", "-q");
        assertEquals(0, again.code(), again.err());
        assertEquals("", again.out(), "--quiet prints nothing");
        try (ConvertedModel m = ConvertedModel.open(out)) {
            assertEquals("column", m.manifest().defaultWeightLayout().json());
        }
    }

    @Test
    void helpReadsLikeAManPage() {
        for (String[] cmd : new String[][]{{"shard-convert"}, {"verify"}, {"inspect"}, {"bench", "convert"}}) {
            String[] args = java.util.Arrays.copyOf(cmd, cmd.length + 1);
            args[cmd.length] = "--help";
            Run h = run(args);
            assertEquals(0, h.code());
            assertTrue(h.out().contains("SYNOPSIS") && h.out().contains("DESCRIPTION") && h.out().contains("OPTIONS"),
                    String.join(" ", cmd) + ": " + h.out());
        }
        assertTrue(run("shard-convert", "--help").out().contains("EXIT STATUS"));
    }

    @Test
    void progressBarWhenForced() {
        Run c = run("shard-convert", FIXTURE.toString(), tmp.resolve("p").toString(), "--progress");
        assertEquals(0, c.code(), c.err());
        assertTrue(c.err().contains("converting 100% [") && c.err().endsWith("\n"), c.err());
        System.out.println("progress bar as drawn: " + c.err().substring(c.err().lastIndexOf('\r') + 1).strip());
    }
}
