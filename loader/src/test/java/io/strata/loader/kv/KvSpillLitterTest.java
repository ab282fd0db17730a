package io.strata.loader.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
 * SIGTERM during a run with a KV budget used to leave {@code kv-spill/store-*}/seq-0.kvspill forever: a shutdown
 * hook now removes the store's spill directory, and after a kill -9 (no hook) the next store sweeps it.
 */
class KvSpillLitterTest {
    @TempDir
    Path tmp;

    private Process holding(Path root) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), HoldSpill.class.getName(),
                root.toString()).redirectError(tmp.resolve("child.err").toFile()).start();
        String line = new BufferedReader(new InputStreamReader(p.getInputStream())).readLine();
        assertTrue(line != null && line.startsWith("ready"), "child said: " + line + " / "
                + Files.readString(tmp.resolve("child.err")));
        assertTrue(Files.isRegularFile(Path.of(line.substring("ready ".length()))));
        return p;
    }

    private static List<String> stores(Path root) throws Exception {
        try (Stream<Path> s = Files.list(root)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void sigtermDuringARunWithAKvBudgetLeavesNoSpillFiles() throws Exception {
        Path root = tmp.resolve("kv-spill");
        Process p = holding(root);
        p.destroy(); // SIGTERM
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(143, p.exitValue(), "ended by the signal, not by a normal close");
        assertEquals(List.of(), stores(root));
    }

    @Test
    void killMinus9LeavesSpillFilesThatTheNextStoreSweeps() throws Exception {
        Path root = tmp.resolve("kv-spill");
        Process p = holding(root);
        p.destroyForcibly();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(2, stores(root).size(), "the dead store's directory and lock: " + stores(root));
        try (PagedKvStore next = PagedKvStore.create(KvOptions.defaults().withSpillRoot(root))) {
            List<String> left = stores(root);
            assertEquals(2, left.size(), "only the new store's own directory and lock: " + left);
            assertTrue(left.contains(next.spillDirectory().getFileName().toString()), left.toString());
        }
        assertEquals(List.of(), stores(root));
    }
}
