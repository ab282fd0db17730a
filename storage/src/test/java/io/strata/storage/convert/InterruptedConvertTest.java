package io.strata.storage.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.storage.synth.SyntheticCheckpoint;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Interrupted conversions leave no litter: SIGTERM runs the cleanup hook; kill -9 cannot, so the next conversion
 * into the same place sweeps the temporaries whose owner (told by its unlocked lock file) is dead.
 */
class InterruptedConvertTest {
    @TempDir
    Path tmp;

    /** Starts {@link HoldOutput} on {@code out} and waits until it is mid-conversion. */
    private Process holding(Path out) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), HoldOutput.class.getName(),
                out.toString()).redirectError(tmp.resolve("child.err").toFile()).start();
        String line = new BufferedReader(new InputStreamReader(p.getInputStream())).readLine();
        assertTrue(line != null && line.startsWith("ready"), "child said: " + line + " / "
                + Files.readString(tmp.resolve("child.err")));
        return p;
    }

    private List<String> litter() throws Exception {
        try (Stream<Path> s = Files.list(tmp)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".out.")).sorted().toList();
        }
    }

    @Test
    void killMinus9DuringShardConvertLeavesATemporaryThatTheNextStartSweeps() throws Exception {
        Path out = tmp.resolve("out");
        Process p = holding(out);
        p.destroyForcibly(); // SIGKILL: no hook runs
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(2, litter().size(), "the killed conversion's temporary and its lock: " + litter());
        Path src = tmp.resolve("src");
        SyntheticCheckpoint.builder().layers(1).experts(2).write(src);
        ShardConverter.convert(src, out, ConvertOptions.defaults(), ProgressListener.NONE);
        assertEquals(List.of(), litter(), "swept at the next start");
        assertTrue(Files.exists(out.resolve("manifest.json")));
    }

    @Test
    void sigtermDuringShardConvertLeavesNothing() throws Exception {
        Process p = holding(tmp.resolve("out"));
        p.destroy(); // SIGTERM: the shutdown hook deletes the temporary
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(143, p.exitValue(), "ended by the signal, not by a normal close");
        assertEquals(List.of(), litter());
        assertTrue(Files.notExists(tmp.resolve("out")));
    }

    @Test
    void aLiveConversionsTemporaryIsNotSwept() throws Exception {
        Process p = holding(tmp.resolve("out"));
        try {
            Path src = tmp.resolve("src");
            SyntheticCheckpoint.builder().layers(1).experts(2).write(src);
            ShardConverter.convert(src, tmp.resolve("out"), ConvertOptions.defaults(), ProgressListener.NONE);
            assertEquals(2, litter().size(), "the live one's temporary and lock stay: " + litter());
        } finally {
            p.getOutputStream().write("exit\n".getBytes());
            p.getOutputStream().flush(); // let it finish normally
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        }
        assertEquals(List.of(), litter(), "removed by its owner on close");
    }
}
