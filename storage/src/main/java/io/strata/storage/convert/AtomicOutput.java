package io.strata.storage.convert;

import io.strata.storage.fs.FileTrees;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * An output directory that appears whole or not at all: everything is written into a hidden temporary sibling
 * that is renamed onto the target at the end. Until {@link #commit()}, closing (or a JVM shutdown, through a
 * hook) deletes the temporary directory. An existing target is refused unless {@code force}; then it is moved
 * aside, replaced, and deleted.
 */
final class AtomicOutput implements AutoCloseable {
    private final Path target;
    private final Path temp;
    private final boolean force;
    private final Thread hook;
    private boolean committed;

    private AtomicOutput(Path target, Path temp, boolean force) {
        this.target = target;
        this.temp = temp;
        this.force = force;
        this.hook = new Thread(() -> deleteQuietly(temp), "strata-convert-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
    }

    static AtomicOutput create(Path target, boolean force) {
        Path abs = target.toAbsolutePath().normalize();
        if (Files.exists(abs) && !force) {
            throw new ConvertException(abs + ": already exists; pass --force to replace it");
        }
        Path parent = abs.getParent();
        try {
            Files.createDirectories(parent);
            // createDirectory, not createTempDirectory: the result becomes OUT, so it gets the umask's usual
            // permissions rather than a temp dir's owner-only ones.
            Path tmp = parent.resolve("." + abs.getFileName() + ".tmp-" + Long.toUnsignedString(
                    java.util.concurrent.ThreadLocalRandom.current().nextLong(), 36));
            Files.createDirectory(tmp);
            return new AtomicOutput(abs, tmp, force);
        } catch (IOException e) {
            throw new ConvertException(parent + ": cannot create the output's temporary directory: " + e, e);
        }
    }

    /** Where to write until commit. */
    Path dir() {
        return temp;
    }

    Path target() {
        return target;
    }

    void commit() {
        try {
            Path old = null;
            if (Files.exists(target)) {
                if (!force) {
                    throw new ConvertException(target + ": appeared while converting; pass --force to replace it");
                }
                old = Files.createTempDirectory(target.getParent(), "." + target.getFileName() + ".old-");
                Files.delete(old);
                move(target, old);
            }
            move(temp, target);
            committed = true;
            if (old != null) {
                deleteQuietly(old);
            }
        } catch (IOException e) {
            throw new ConvertException(target + ": cannot move the finished output into place: " + e, e);
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to);
        }
    }

    @Override
    public void close() {
        if (!committed) {
            deleteQuietly(temp);
        }
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the hook runs (or ran) anyway
        }
    }

    static void deleteQuietly(Path dir) {
        // a leftover hidden temp directory is harmless and named .<out>.tmp-*
        FileTrees.deleteQuietly(dir);
    }
}
