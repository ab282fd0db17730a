package io.strata.p2p.store;

import io.strata.storage.fs.FileTrees;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where a fetch writes before anything appears in its output directory: a private directory
 * {@code DIR/.strata-fetch-<pid>-<start>-<random>} (mode 0700, created exclusively). Files in it are created new,
 * never following links; a finished file is moved into DIR by a rename that replaces only the directory entry (a
 * symlink planted in DIR is replaced, never written through), and without permission to replace, by a hard link that
 * fails when anything of that name exists. A failed or interrupted fetch deletes the staging directory (and DIR
 * itself if it created it and left it empty); one killed outright leaves it behind, and the next fetch into DIR
 * deletes the staging directories of processes that are no longer alive, telling them by pid and start time in the
 * name. Deletion never follows links.
 */
public final class OutputStaging {
    static final String PREFIX = ".strata-fetch-";
    private static final Pattern NAME = Pattern.compile(Pattern.quote(PREFIX) + "(\\d+)-(\\d+)-[0-9a-f]+");
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path dir;
    private final Path staging;
    private final boolean createdDir;

    private OutputStaging(Path dir, Path staging, boolean createdDir) {
        this.dir = dir;
        this.staging = staging;
        this.createdDir = createdDir;
    }

    /** Creates DIR if needed, sweeps stale staging directories in it, and creates this process's own. */
    public static OutputStaging create(Path dir) throws IOException {
        boolean created = !Files.exists(dir, LinkOption.NOFOLLOW_LINKS);
        Files.createDirectories(dir);
        sweep(dir);
        ProcessHandle me = ProcessHandle.current();
        byte[] r = new byte[8];
        RANDOM.nextBytes(r);
        Path staging = dir.resolve(PREFIX + me.pid() + "-" + startMillis(me) + "-" + HexFormat.of().formatHex(r));
        try {
            Files.createDirectory(staging, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (UnsupportedOperationException e) {
            Files.createDirectory(staging);
        }
        return new OutputStaging(dir, staging, created);
    }

    /** Deletes the staging directories in {@code dir} whose process is gone; returns how many. */
    public static int sweep(Path dir) throws IOException {
        int n = 0;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, PREFIX + "*")) {
            for (Path p : ds) {
                Matcher m = NAME.matcher(p.getFileName().toString());
                if (!m.matches() || !alive(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)))) {
                    deleteTree(p);
                    n++;
                }
            }
        }
        return n;
    }

    private static boolean alive(long pid, long startMillis) {
        Optional<ProcessHandle> h = ProcessHandle.of(pid);
        return h.isPresent() && h.get().isAlive() && (startMillis == 0 || startMillis(h.get()) == startMillis);
    }

    private static long startMillis(ProcessHandle h) {
        return h.info().startInstant().map(java.time.Instant::toEpochMilli).orElse(0L);
    }

    /** The staging directory (tests, diagnostics). */
    public Path path() {
        return staging;
    }

    /** Where {@code name} lives while staged. */
    public Path staged(String name) {
        return staging.resolve(name);
    }

    /** Creates {@code name} in the staging directory, new, not through a link, for reading and writing. */
    public FileChannel create(String name) throws IOException {
        return FileChannel.open(staged(name), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
    }

    /** Creates {@code name} in the staging directory with {@code bytes}, flushed. */
    public void write(String name, byte[] bytes) throws IOException {
        try (FileChannel ch = create(name)) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(false);
        }
    }

    /**
     * Moves staged {@code name} to {@code DIR/name}. With {@code replace} whatever has that name in DIR (file or
     * link, not a directory) is replaced atomically; without it an existing entry makes this fail and stay put.
     */
    public void publish(String name, boolean replace) throws IOException {
        Path from = staged(name);
        Path to = dir.resolve(name);
        if (Files.isDirectory(to, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException(to + " is a directory; not replacing it");
        }
        if (replace) {
            try {
                Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
            }
            return;
        }
        try {
            Files.createLink(to, from);
            Files.delete(from);
        } catch (FileAlreadyExistsException e) {
            throw new IOException(to + " already exists; not replacing it (give --force to)", e);
        } catch (UnsupportedOperationException | FileSystemException e) {
            if (e instanceof FileSystemException fse && Files.exists(to, LinkOption.NOFOLLOW_LINKS)) {
                throw new IOException(to + " already exists; not replacing it (give --force to)", fse);
            }
            Files.move(from, to); // no hard links here: a move that refuses an existing target
        }
    }

    /** After every file was published: removes the (now empty) staging directory. */
    public void finish() throws IOException {
        deleteTree(staging);
    }

    /** Deletes the staging directory and what is in it, and DIR if this fetch created it and it is empty. */
    public void discard() throws IOException {
        deleteTree(staging);
        if (createdDir) {
            try {
                Files.delete(dir);
            } catch (java.nio.file.DirectoryNotEmptyException | NoSuchFileException ignored) {
                // someone else's files are there (or it is gone already)
            }
        }
    }

    /** Deletes {@code p} and everything under it without following links (a link is removed, not its target). */
    static void deleteTree(Path p) throws IOException {
        if (Files.isSymbolicLink(p)) {
            Files.delete(p);
        } else {
            FileTrees.delete(p);
        }
    }
}
