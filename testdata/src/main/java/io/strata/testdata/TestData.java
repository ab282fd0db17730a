package io.strata.testdata;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/**
 * Where the reference fixtures live: {@code testdata/data} in this repository (a copy of what the project was
 * given, so that a plain clone tests with nothing beside it). Large text files are stored gzip-compressed
 * ({@code tokenizer.json.gz}); {@link #dir} hands out a directory in which every file is plain, expanded once
 * per state of the source directory under {@code testdata/target/expanded} (atomically, so concurrent test JVMs
 * agree; a file added or changed beside a compressed one gives a fresh copy).
 *
 * <p>The root is the system property {@code strata.testdata} (set by the build), else the first
 * {@code testdata/data} found walking up from the working directory.
 */
public final class TestData {
    private static final String GZ = ".gz";

    private TestData() {
    }

    /** The root of the fixtures ({@code testdata/data}). */
    public static Path root() {
        String prop = System.getProperty("strata.testdata");
        if (prop != null && !prop.isBlank()) {
            Path p = Path.of(prop).toAbsolutePath().normalize();
            if (Files.isDirectory(p)) {
                return p;
            }
            throw new IllegalStateException("strata.testdata=" + prop + " is not a directory");
        }
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            Path p = d.resolve("testdata").resolve("data");
            if (Files.isDirectory(p)) {
                return p;
            }
        }
        throw new IllegalStateException("cannot find testdata/data above " + Path.of("").toAbsolutePath()
                + "; set -Dstrata.testdata");
    }

    /**
     * A fixture directory, e.g. {@code dir("fixtures/tiny-mixtral-f32")} or {@code dir("tokenizers/qwen3")}, with
     * every file plain (compressed ones expanded). Tests must treat it as read-only: copy before modifying.
     */
    public static Path dir(String relative) {
        Path src = root().resolve(relative).normalize();
        if (!Files.isDirectory(src)) {
            throw new IllegalArgumentException("no fixture directory " + src);
        }
        if (!hasCompressed(src)) {
            return src;
        }
        try {
            // one expanded copy per state of the source directory: files added or changed there give a new copy
            String stamp = stamp(src);
            Path expanded = root().getParent().resolve("target").resolve("expanded").resolve(relative)
                    .resolve(stamp).normalize();
            if (Files.isDirectory(expanded)) {
                return expanded;
            }
            Files.createDirectories(expanded.getParent());
            Path tmp = Files.createTempDirectory(expanded.getParent(), ".expand-");
            copyExpanding(src, tmp);
            try {
                Files.move(tmp, expanded, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException | java.nio.file.FileAlreadyExistsException
                     | java.nio.file.DirectoryNotEmptyException e) {
                deleteTree(tmp); // another JVM won the race: its copy is identical
            }
            return expanded;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot expand fixture " + src + ": " + e.getMessage(), e);
        }
    }

    /** One fixture file, e.g. {@code file("tokenizers/qwen3/tokenizer.json")} (expanded when stored compressed). */
    public static Path file(String relative) {
        Path rel = Path.of(relative);
        Path parent = rel.getParent();
        return dir(parent == null ? "." : parent.toString()).resolve(rel.getFileName().toString());
    }

    /** A short name for the source directory's current contents: every file's path, size and modification time. */
    private static String stamp(Path dir) throws IOException {
        long h = 1125899906842597L;
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted().toList()) {
                String line = dir.relativize(p) + "|" + (Files.isRegularFile(p)
                        ? Files.size(p) + "|" + Files.getLastModifiedTime(p).toMillis() : "dir");
                h = 31 * h + line.hashCode();
            }
        }
        return "v" + Long.toHexString(h);
    }

    private static boolean hasCompressed(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.anyMatch(p -> p.getFileName().toString().endsWith(GZ));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void copyExpanding(Path src, Path dst) throws IOException {
        List<Path> all;
        try (Stream<Path> s = Files.walk(src)) {
            all = s.toList();
        }
        for (Path p : all) {
            Path rel = src.relativize(p);
            if (Files.isDirectory(p)) {
                Files.createDirectories(dst.resolve(rel.toString()));
                continue;
            }
            String name = p.getFileName().toString();
            if (name.endsWith(GZ)) {
                Path out = dst.resolve(rel.toString().substring(0, rel.toString().length() - GZ.length()));
                try (InputStream in = new GZIPInputStream(Files.newInputStream(p), 1 << 16)) {
                    Files.copy(in, out);
                }
            } else {
                Files.copy(p, dst.resolve(rel.toString()));
            }
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
