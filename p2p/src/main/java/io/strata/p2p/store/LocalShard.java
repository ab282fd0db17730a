package io.strata.p2p.store;

import io.strata.core.manifest.ShardInfo;
import io.strata.p2p.wire.Bitfield;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One shard of a local model: complete (its file in the model directory: whole-file hash checked, or a trusted
 * origin) or being received into a staging directory ({@link OutputStaging}), written only with verified chunks,
 * complete once the whole-file hash matches, and moved into the model directory when the model is published.
 */
public final class LocalShard {
    private final ShardInfo info;
    private final long chunkSize;
    /** The manifest's hash algorithm of {@code info.hash()}. */
    private final String algorithm;
    private final Path finalPath;
    private final OutputStaging staging;
    private final Bitfield have;
    private final AtomicBoolean finishing = new AtomicBoolean();
    private volatile boolean complete;
    /** Where the bytes are now: the staged file until published, then the final one. */
    private volatile Path dataPath;
    private FileChannel writer;

    private LocalShard(ShardInfo info, long chunkSize, String algorithm, Path dir, OutputStaging staging,
                       boolean complete) {
        this.info = info;
        this.chunkSize = chunkSize;
        this.algorithm = algorithm;
        this.finalPath = dir.resolve(info.filename());
        this.staging = staging;
        this.dataPath = staging == null ? finalPath : staging.staged(info.filename());
        int n = ShardInfo.chunkCount(info.size(), chunkSize);
        this.have = complete ? Bitfield.full(n) : new Bitfield(n);
        this.complete = complete;
    }

    /** A shard whose file is in {@code dir} already. */
    static LocalShard complete(ShardInfo info, long chunkSize, String algorithm, Path dir) {
        return new LocalShard(info, chunkSize, algorithm, dir, null, true);
    }

    /** A shard not held; received into {@code staging} when given, else never (a serving model missing it). */
    static LocalShard empty(ShardInfo info, long chunkSize, String algorithm, Path dir, OutputStaging staging) {
        return new LocalShard(info, chunkSize, algorithm, dir, staging, false);
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
            ch = FileChannel.open(dataPath, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            // published (moved from staging to the model directory) between the check and the open
            ch = FileChannel.open(finalPath, StandardOpenOption.READ);
        }
        return new ChunkFile(ch, chunk * chunkSize, chunkLength(chunk));
    }

    /** Writes a verified chunk into the staged file and marks it present; true when the shard now has every chunk. */
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
     * Once every chunk is present: flushes and checks the whole-file hash of the staged file (the only check the
     * bytes of a manifest without chunk hashes get: its pieces were checked by length alone). Runs once; throws
     * (and deletes the staged file) when the hash does not match.
     */
    boolean finish() throws IOException {
        if (complete || !have.isComplete() || !finishing.compareAndSet(false, true)) {
            return complete;
        }
        synchronized (this) {
            if (writer == null && info.size() == 0) {
                writer();
            }
            if (writer != null) {
                writer.force(false);
                writer.close();
                writer = null;
            }
        }
        String got = ShardHasher.fileHash(dataPath, algorithm);
        if (!got.equals(info.hash())) {
            Files.deleteIfExists(dataPath);
            throw new IOException(finalPath + ": whole-file hash " + got + " of the received shard does not match"
                    + " the manifest's " + info.hash());
        }
        complete = true;
        return true;
    }

    /** Moves a complete staged shard into the model directory (see {@link OutputStaging#publish}); true if moved. */
    boolean publish(boolean replace) throws IOException {
        if (!complete) {
            throw new IOException(finalPath + ": not complete");
        }
        if (staging == null || dataPath.equals(finalPath)) {
            return false;
        }
        staging.publish(info.filename(), replace);
        dataPath = finalPath;
        return true;
    }

    private synchronized FileChannel writer() throws IOException {
        if (writer == null) {
            if (staging == null) {
                throw new IOException(finalPath + ": this shard is served, not received");
            }
            writer = staging.create(info.filename());
        }
        return writer;
    }

    /** Closes the writer (the staged file goes with the staging directory). */
    synchronized void abandon() throws IOException {
        if (writer != null) {
            writer.close();
            writer = null;
        }
    }
}
