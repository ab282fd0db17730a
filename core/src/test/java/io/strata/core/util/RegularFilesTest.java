package io.strata.core.util;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.core.manifest.ManifestCodec;
import io.strata.core.manifest.ManifestException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A FIFO or /dev/zero behind manifest.json is refused at once instead of hanging or filling the heap. */
class RegularFilesTest {
    @TempDir
    Path tmp;

    static Path fifo(Path at) throws Exception {
        Process p;
        try {
            p = new ProcessBuilder("mkfifo", at.toString()).redirectErrorStream(true).start();
        } catch (java.io.IOException e) {
            Assumptions.abort("mkfifo is not available: " + e.getMessage());
            throw e;
        }
        Assumptions.assumeTrue(p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0, "mkfifo failed");
        return at;
    }

    @Test
    void fifoAsManifestJsonIsRefusedNotAwaited() throws Exception {
        fifo(tmp.resolve("manifest.json"));
        refusedAtOnce();
    }

    private void refusedAtOnce() {
        ManifestException e = assertTimeoutPreemptively(Duration.ofSeconds(20),
                () -> assertThrows(ManifestException.class, () -> ManifestCodec.read(tmp)));
        assertTrue(e.getMessage().contains("manifest.json") && e.getMessage().contains("not a regular file"),
                e.getMessage());
    }

    @Test
    void symlinkToDevZeroAsManifestJsonIsRefusedNotRead() throws Exception {
        Path zero = Path.of("/dev/zero");
        Assumptions.assumeTrue(Files.exists(zero), "no /dev/zero here");
        Files.createSymbolicLink(tmp.resolve("manifest.json"), zero);
        refusedAtOnce();
    }

    @Test
    void readsARegularFileAndRefusesOneOverTheLimit() throws Exception {
        Path f = Files.write(tmp.resolve("a.json"), new byte[]{1, 2, 3, 4, 5});
        assertArrayEquals(new byte[]{1, 2, 3, 4, 5}, RegularFiles.read(f, 5));
        var e = assertThrows(java.io.IOException.class, () -> RegularFiles.read(f, 4));
        assertTrue(e.getMessage().contains("a.json") && e.getMessage().contains("4 byte limit"), e.getMessage());
        assertTrue(assertThrows(java.io.IOException.class, () -> RegularFiles.read(tmp, 10)).getMessage()
                .contains("a directory"));
    }
}
