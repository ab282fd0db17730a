package io.strata.tools.commands;

import static io.strata.tools.commands.Cli.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.core.model.DType;
import io.strata.core.model.ModelFamily;
import io.strata.storage.synth.SyntheticCheckpoint;
import io.strata.tools.StrataCli;
import io.strata.tools.commands.Cli.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** shard-convert streams: a checkpoint several times larger than the JVM's heap converts in a separate JVM. */
class BoundedHeapConvertTest {
    @TempDir
    Path tmp;

    @Test
    void convertsACheckpointFiveTimesTheHeap() throws Exception {
        convert(SyntheticCheckpoint.Fused.NONE, "column");
    }

    /** GPT-OSS's fused, interleaved x @ W experts: every projection gathered and transposed through the buffer. */
    @Test
    void splitsFusedInterleavedExpertsFiveTimesTheHeap() throws Exception {
        convert(SyntheticCheckpoint.Fused.GPT_OSS, "row");
    }

    private void convert(SyntheticCheckpoint.Fused fused, String layout) throws Exception {
        long free = Files.getFileStore(tmp).getUsableSpace();
        org.junit.jupiter.api.Assumptions.assumeTrue(free > (2L << 30),
                "needs 2 GiB free in the temp dir for a 270 MB checkpoint and its conversion, has " + (free >> 20)
                        + " MiB");
        Path src = tmp.resolve("src");
        SyntheticCheckpoint.Builder b = SyntheticCheckpoint.builder().family(ModelFamily.MIXTRAL).dtype(DType.BF16)
                .hidden(512).intermediate(1024).layers(10).heads(8).kvHeads(2).headDim(64).experts(8).topK(2)
                .vocab(4096).shards(3).seed(5).fused(fused);
        long bytes = b.tensorBytes();
        b.write(src);
        long heap = 40L << 20;
        assertTrue(bytes >= 5 * heap, "checkpoint " + bytes + " B must dwarf the " + heap + " B heap");
        Path out = tmp.resolve("out");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(List.of(java, "-Xmx" + (heap >> 20) + "m", "--add-modules=jdk.incubator.vector",
                "-cp", System.getProperty("java.class.path"), StrataCli.class.getName(),
                "shard-convert", src.toString(), out.toString(), "--layout", layout, "--shard-size", "32MiB", "-q"))
                .redirectErrorStream(true).redirectOutput(tmp.resolve("child.log").toFile()).start();
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "conversion finished");
        assertEquals(0, p.exitValue(), Files.readString(tmp.resolve("child.log")));
        Run v = run("verify", out.toString());
        assertEquals(0, v.code(), v.err());
        assertEquals(10 * 8, io.strata.core.manifest.ManifestCodec.read(out).groups().size(), "one group per expert");
    }
}
