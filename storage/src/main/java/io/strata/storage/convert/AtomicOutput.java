package io.strata.storage.convert;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.core.manifest.Manifest;
import io.strata.core.manifest.ManifestCodec;
import io.strata.core.manifest.ManifestException;
import io.strata.storage.fs.OwnedTempDir;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * An output directory that appears whole or not at all: everything is written into a hidden temporary sibling
 * ({@code .OUT.tmp-*}, an {@link OwnedTempDir}) that is renamed onto the target at the end. Until
 * {@link #commit()}, closing or a JVM shutdown (a hook, so SIGTERM too) deletes it; what a killed process left
 * (kill -9) is swept when the next conversion into the same parent starts. An existing target is refused unless
 * {@code force}, and even then replaced only when it is recognisably a previous Strata output (a directory with a
 * manifest.json): it is moved aside, replaced, and deleted.
 */
final class AtomicOutput implements AutoCloseable {
    private final Path target;
    private final OwnedTempDir temp;
    private final boolean force;
    private boolean committed;

    private AtomicOutput(Path target, OwnedTempDir temp, boolean force) {
        this.target = target;
        this.temp = temp;
        this.force = force;
    }

    static AtomicOutput create(Path target, boolean force) {
        Path abs = target.toAbsolutePath().normalize();
        if (Files.exists(abs, LinkOption.NOFOLLOW_LINKS)) {
            if (!force) {
                throw new ConvertException(abs + ": already exists; pass --force to replace it");
            }
            requireReplaceable(abs);
        }
        Path parent = abs.getParent();
        try {
            Files.createDirectories(parent);
            OwnedTempDir.sweep(parent, tempPrefix(abs));
            OwnedTempDir.sweep(parent, oldPrefix(abs));
            return new AtomicOutput(abs, OwnedTempDir.create(parent, tempPrefix(abs)), force);
        } catch (IOException e) {
            throw new ConvertException(parent + ": cannot create the output's temporary directory: " + e, e);
        }
    }

    static String tempPrefix(Path target) {
        return "." + target.getFileName() + ".tmp-";
    }

    private static String oldPrefix(Path target) {
        return "." + target.getFileName() + ".old-";
    }

    /**
     * {@code --force} replaces a previous Strata output, nothing else: a directory (not a link to one elsewhere)
     * holding a manifest.json that reads as a manifest. Anything else (a user's non-empty directory, a file) is
     * refused, so a mistyped OUT cannot delete unrelated data.
     */
    static void requireReplaceable(Path target) {
        if (!Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
            throw new ConvertException(target + ": exists and is not a directory; --force replaces only a previous"
                    + " shard-convert output");
        }
        Path mf = target.resolve(Manifest.FILE_NAME);
        try {
            JsonNode n = ManifestCodec.mapper().readTree(ManifestCodec.readBytes(mf));
            if (n == null || !n.isObject() || !n.has("version") || !n.path("shards").isArray()
                    || !n.has("tensors")) {
                throw new ManifestException(mf + ": not a Strata manifest");
            }
        } catch (ManifestException | IOException e) {
            throw new ConvertException(target + ": exists and is not a previous Strata output (no readable "
                    + Manifest.FILE_NAME + "); --force replaces only a shard-convert output, delete it yourself if"
                    + " it should go", e);
        }
    }

    /** The real path of {@code p}, resolving symlinks of its existing part (the rest kept as written). */
    static Path realPath(Path p) {
        Path abs = p.toAbsolutePath().normalize();
        Path existing = abs;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            return abs;
        }
        try {
            return existing.toRealPath().resolve(existing.relativize(abs));
        } catch (IOException e) {
            return abs;
        }
    }

    /** Where to write until commit. */
    Path dir() {
        return temp.path();
    }

    Path target() {
        return target;
    }

    void commit() {
        OwnedTempDir old = null;
        try {
            if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                if (!force) {
                    throw new ConvertException(target + ": appeared while converting; pass --force to replace it");
                }
                requireReplaceable(target);
                old = OwnedTempDir.create(target.getParent(), oldPrefix(target));
                Files.delete(old.path());
                move(target, old.path());
            }
            try {
                move(temp.path(), target);
            } catch (IOException e) {
                if (old != null) {
                    try {
                        move(old.path(), target); // put the previous output back
                    } catch (IOException again) {
                        throw new ConvertException(target + ": cannot move the finished output into place (" + e
                                + "); the previous output is at " + old.path(), e);
                    }
                }
                throw e;
            }
            committed = true;
        } catch (IOException e) {
            throw new ConvertException(target + ": cannot move the finished output into place: " + e, e);
        } finally {
            if (old != null && (committed || !Files.exists(old.path()))) {
                old.close(); // deletes the replaced output once the new one is in place
            }
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
        temp.close(); // after commit the directory is the target: only its lock remains to go
    }

}
