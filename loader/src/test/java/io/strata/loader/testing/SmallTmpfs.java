package io.strata.loader.testing;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * A real, small file system for "the disk is full" tests: a tmpfs of a few hundred KiB mounted on a fresh
 * directory (needs root or CAP_SYS_ADMIN; the test is skipped, with the reason, where mounting is not permitted).
 * {@link #fill()} takes every free block with a filler file, so the next write fails with ENOSPC for real.
 */
public final class SmallTmpfs implements AutoCloseable {
    private final Path dir;

    private SmallTmpfs(Path dir) {
        this.dir = dir;
    }

    /** Mounts a tmpfs of {@code size} (e.g. {@code 256k}) on a new directory, or skips the calling test. */
    public static SmallTmpfs mount(String size) throws Exception {
        Path dir = Files.createTempDirectory("strata-tmpfs-");
        String why = run("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", dir.toString());
        if (why != null) {
            Files.deleteIfExists(dir);
            Assumptions.abort("cannot mount a " + size + " tmpfs for a full-disk test (" + why
                    + "): needs root or CAP_SYS_ADMIN");
        }
        return new SmallTmpfs(dir);
    }

    public Path dir() {
        return dir;
    }

    /** Writes a filler file until the file system is full; returns its size. */
    public long fill() throws IOException {
        Path f = dir.resolve("filler");
        long n = 0;
        byte[] block = new byte[4096];
        try (RandomAccessFile out = new RandomAccessFile(f.toFile(), "rw")) {
            out.seek(out.length());
            while (true) {
                out.write(block);
                n += block.length;
            }
        } catch (IOException full) {
            if (!String.valueOf(full.getMessage()).contains("No space left")) {
                throw full;
            }
        }
        return n;
    }

    private static String run(String... cmd) throws Exception {
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            return e.getMessage();
        }
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return String.join(" ", cmd) + " timed out";
        }
        String out = new String(p.getInputStream().readAllBytes()).trim();
        return p.exitValue() == 0 ? null : out.isEmpty() ? "exit " + p.exitValue() : out;
    }

    @Override
    public void close() throws Exception {
        String why = run("umount", dir.toString());
        if (why != null) {
            run("umount", "-l", dir.toString());
        }
        Files.deleteIfExists(dir);
    }
}
