package io.strata.storage.fs;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.logging.Logger;

/**
 * A temporary directory that tells whether its owner is still alive, so that what a killed process left behind
 * is removed at the next start. Next to the directory {@code NAME} sits {@code NAME.lock}, held locked (an OS file
 * lock, released by the kernel when the process dies however it dies) with the owner's pid in it; it is created
 * under a temporary name, locked, then renamed into place, so a {@code NAME.lock} is never seen unlocked while its
 * owner lives. {@link #sweep} deletes every directory of a prefix whose lock nobody holds. On a normal exit or a signal the
 * JVM can handle (SIGTERM, Ctrl-C) a shutdown hook deletes the directory at once; {@link #close()} does it earlier.
 * Directories without a lock file (left by versions before this one) are swept once they are an hour old.
 */
public final class OwnedTempDir implements AutoCloseable {
    /** A lock being created is judged only when this old: its owner may be between creating and locking it. */
    private static final Duration CREATING_GRACE = Duration.ofMinutes(1);
    /** Unlocked directories with no lock file at all are swept only when at least this old. */
    private static final Duration LEGACY_GRACE = Duration.ofHours(1);
    private static final String LOCK_SUFFIX = ".lock";
    private static final String CREATING_SUFFIX = ".lock.new";
    private static final Logger LOG = Logger.getLogger(OwnedTempDir.class.getName());
    /**
     * Lock files this JVM holds. The sweep must not even open them: closing any channel of a file drops every
     * POSIX lock the process holds on it (see {@link FileLock}), which would make a live owner look dead.
     */
    private static final Set<Path> HELD = ConcurrentHashMap.newKeySet();

    private final Path dir;
    private final Path lockFile;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final Thread hook;
    private boolean closed;

    private OwnedTempDir(Path dir, Path lockFile, FileChannel lockChannel, FileLock lock) {
        this.dir = dir;
        this.lockFile = lockFile;
        this.lockChannel = lockChannel;
        this.lock = lock;
        this.hook = new Thread(this::deleteAll, "strata-temp-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** Creates {@code parent/<prefix><random>} (and its lock), owned by this process until {@link #close()}. */
    public static OwnedTempDir create(Path parent, String prefix) throws IOException {
        Files.createDirectories(parent);
        for (int attempt = 0; ; attempt++) {
            String name = prefix + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36);
            Path dir = parent.resolve(name);
            Path lockFile = parent.resolve(name + LOCK_SUFFIX);
            Path creating = parent.resolve(name + CREATING_SUFFIX);
            if (Files.exists(dir) || Files.exists(lockFile)) {
                if (attempt < 8) {
                    continue;
                }
                throw new java.nio.file.FileAlreadyExistsException(dir.toString());
            }
            HELD.add(creating.toAbsolutePath());
            HELD.add(lockFile.toAbsolutePath());
            FileChannel ch;
            try {
                ch = FileChannel.open(creating, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            } catch (IOException | RuntimeException e) {
                HELD.remove(creating.toAbsolutePath());
                HELD.remove(lockFile.toAbsolutePath());
                throw e;
            }
            try {
                FileLock l = ch.tryLock();
                if (l == null) {
                    throw new IOException(creating + ": locked by another process right after creation");
                }
                ch.write(java.nio.ByteBuffer.wrap((ProcessHandle.current().pid() + "\n")
                        .getBytes(StandardCharsets.US_ASCII)));
                Files.move(creating, lockFile, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                // createDirectory, not createTempDirectory: a converter output becomes the user's directory, so
                // it gets the umask's usual permissions rather than a temp dir's owner-only ones
                Files.createDirectory(dir);
                HELD.remove(creating.toAbsolutePath());
                return new OwnedTempDir(dir, lockFile, ch, l);
            } catch (IOException | RuntimeException e) {
                Files.deleteIfExists(creating);
                Files.deleteIfExists(lockFile);
                ch.close();
                HELD.remove(creating.toAbsolutePath());
                HELD.remove(lockFile.toAbsolutePath());
                throw e;
            }
        }
    }

    public Path path() {
        return dir;
    }

    /**
     * Deletes every {@code parent/<prefix>*} directory whose owner is gone: its lock file is not locked (or, for
     * a directory with no lock file, it is over an hour old), and every orphaned lock file. Best effort: what
     * cannot be deleted stays for the next sweep. Returns how many directories were removed.
     */
    public static int sweep(Path parent, String prefix) {
        if (!Files.isDirectory(parent)) {
            return 0;
        }
        int removed = 0;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(parent, p -> p.getFileName().toString()
                .startsWith(prefix))) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                try {
                    if (name.endsWith(CREATING_SUFFIX)) {
                        if (age(p).compareTo(CREATING_GRACE) >= 0) {
                            removeIfDead(null, p); // its creator died between creating and renaming it
                        }
                    } else if (name.endsWith(LOCK_SUFFIX)) {
                        Path owned = parent.resolve(name.substring(0, name.length() - LOCK_SUFFIX.length()));
                        if (!Files.exists(owned)) {
                            removeIfDead(null, p); // an orphaned lock
                        }
                    } else if (Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                        Path lockFile = parent.resolve(name + LOCK_SUFFIX);
                        if (Files.exists(lockFile) ? removeIfDead(p, lockFile) : removeIfOld(p)) {
                            removed++;
                        }
                    }
                } catch (IOException | RuntimeException e) {
                    LOG.fine(() -> "cannot sweep " + p + ": " + e);
                }
            }
        } catch (IOException e) {
            LOG.fine(() -> "cannot list " + parent + ": " + e);
        }
        return removed;
    }

    /** Deletes {@code dir} (if not null) and {@code lockFile} when the lock can be taken (its owner is dead). */
    private static boolean removeIfDead(Path dir, Path lockFile) throws IOException {
        if (HELD.contains(lockFile.toAbsolutePath())) {
            return false;
        }
        try (FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.WRITE)) {
            FileLock l;
            try {
                l = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                return false; // held by this very process
            }
            if (l == null) {
                return false; // held by a live process
            }
            try {
                if (dir != null) {
                    FileTrees.delete(dir);
                }
                Files.deleteIfExists(lockFile);
            } finally {
                l.release();
            }
            return true;
        }
    }

    private static boolean removeIfOld(Path dir) throws IOException {
        if (age(dir).compareTo(LEGACY_GRACE) < 0) {
            return false;
        }
        FileTrees.delete(dir);
        return true;
    }

    private static Duration age(Path p) throws IOException {
        Instant t = Files.readAttributes(p, BasicFileAttributes.class, java.nio.file.LinkOption.NOFOLLOW_LINKS)
                .lastModifiedTime().toInstant();
        return Duration.between(t, Instant.now());
    }

    private synchronized void deleteAll() {
        FileTrees.deleteQuietly(dir);
        try {
            Files.deleteIfExists(lockFile);
        } catch (IOException ignored) {
            // an orphaned lock file is swept by the next start
        }
        try {
            lock.release();
            lockChannel.close();
        } catch (IOException ignored) {
            // closing a lock channel: nothing to lose
        }
        HELD.remove(lockFile.toAbsolutePath());
    }

    /** Deletes the directory (if still there: a committed output was renamed away) and its lock. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        deleteAll();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the hook runs (or ran) anyway
        }
    }
}
