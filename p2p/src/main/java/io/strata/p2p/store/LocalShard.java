package io.strata.p2p.store;

import io.strata.core.manifest.ShardInfo;
import io.strata.p2p.wire.Bitfield;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One shard of a local model: complete (the final file, whole-file hash checked or trusted origin) or being filled
 * ({@code <name>.part}, written only with verified chunks; renamed to the final name only after the whole-file
 * hash matches).
 */
public final class LocalShard {
    static final String PART_SUFFIX = ".part";

    private final ShardInfo info;
    private final long chunkSize;
    private final Path finalPath;
    private final Path partPath;
    private final Bitfield have;
    private final AtomicBoolean finishing = new AtomicBoolean();
    private volatile boolean complete;
    private FileChannel writer;

    private LocalShard(ShardInfo info, long chunkSize, Path dir, boolean complete) {
        this.info = info;
        this.chunkSize = chunkSize;
        this.finalPath = dir.resolve(info.filename());
        this.partPath = dir.resolve(info.filename() + PART_SUFFIX);
        int n = ShardInfo.chunkCount(info.size(), chunkSize);
        this.have = complete ? Bitfield.full(n) : new Bitfield(n);
        this.complete = complete;
    }

    static LocalShard complete(ShardInfo info, long chunkSize, Path dir) {
        return new LocalShard(info, chunkSize, dir, true);
    }

    static LocalShard empty(ShardInfo info, long chunkSize, Path dir) {
        return new LocalShard(info, chunkSize, dir, false);
    }

    public ShardInfo info() {
        return info;
    }

    public Bitfield have() {
        return have;
    }

    public boolean isComplete() {
        return complete;
    }

    public int chunkCount() {
        return have.size();
    }

    public int chunkLength(int chunk) {
        return (int) info.chunkLength(chunk, chunkSize);
    }

    /** Opens chunk {@code chunk} for reading, or null when this node does not have it (verified). */
    public ChunkFile open(int chunk) throws IOException {
        if (chunk < 0 || chunk >= have.size() || !have.get(chunk)) {
            return null;
        }
        FileChannel ch;
        try {
            ch = FileChannel.open(complete ? finalPath : partPath, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            // renamed from .part to final between the check and the open
            ch = FileChannel.open(finalPath, StandardOpenOption.READ);
        }
        return new ChunkFile(ch, chunk * chunkSize, chunkLength(chunk));
    }

    /** Writes a verified chunk into the .part file and marks it present; true when the shard now has every chunk. */
    boolean write(int chunk, ByteBuffer verified) throws IOException {
        if (complete || have.get(chunk)) {
            return false;
        }
        FileChannel w = writer();
        long pos = chunk * chunkSize;
        ByteBuffer b = verified.duplicate();
        while (b.hasRemaining()) {
            pos += w.write(b, pos);
        }
        have.set(chunk);
        return have.isComplete();
    }

    /**
     * Once every chunk is present: flushes, checks the whole-file hash and renames .part to the final name. Runs
     * once; returns false (and deletes the .part file) when the hash does not match.
     */
    boolean finish() throws IOException {
        if (complete || !have.isComplete() || !finishing.compareAndSet(false, true)) {
            return complete;
        }
        synchronized (this) {
            if (writer == null && info.size() == 0) {
                Files.write(partPath, new byte[0]);
            }
            if (writer != null) {
                writer.force(false);
                writer.close();
                writer = null;
            }
        }
        String got = ShardHasher.fileHash(partPath);
        if (!got.equals(info.hash())) {
            Files.deleteIfExists(partPath);
            throw new IOException(partPath + ": whole-file hash " + got + " does not match the manifest's "
                    + info.hash());
        }
        Files.move(partPath, finalPath, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        complete = true;
        return true;
    }

    private synchronized FileChannel writer() throws IOException {
        if (writer == null) {
            writer = FileChannel.open(partPath, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.READ);
        }
        return writer;
    }

    /** Closes the writer and deletes an unfinished .part file. */
    synchronized void abandon() throws IOException {
        if (writer != null) {
            writer.close();
            writer = null;
        }
        if (!complete) {
            Files.deleteIfExists(partPath);
        }
    }
}
