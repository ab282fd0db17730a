package io.strata.storage.model;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Bytes of a shard that do not match the manifest (a chunk's BLAKE3, a tensor's block Merkle root, or the whole
 * shard's hash): the model directory is damaged. {@link #chunk()} is -1 unless a chunk was checked.
 */
public final class CorruptShardException extends IOException {
    private final int shard;
    private final int chunk;

    private final String tensor;

    CorruptShardException(Path file, int shard, int chunk, long start, long end) {
        this(file + ": chunk " + chunk + " (bytes [" + start + ", " + end + ")) of shard " + shard
                + " does not match its BLAKE3 in manifest.json: the model directory is damaged (strata verify "
                + dir(file) + " lists every bad chunk)", shard, chunk, null);
    }

    private CorruptShardException(String message, int shard, int chunk, String tensor) {
        super(message);
        this.shard = shard;
        this.chunk = chunk;
        this.tensor = tensor;
    }

    /** Tensor {@code tensor} (first stored in shard {@code shard}) does not match its block Merkle root. */
    static CorruptShardException tensor(Path file, int shard, String tensor) {
        return new CorruptShardException(file + ": tensor '" + tensor + "' (in shard " + shard + ") does not match"
                + " its block Merkle root in manifest.json: the model directory is damaged (strata verify "
                + dir(file) + " lists every bad tensor)", shard, -1, tensor);
    }

    /** Shard {@code shard} does not match its whole-file hash (a manifest without chunk hashes). */
    static CorruptShardException wholeShard(Path file, int shard) {
        return new CorruptShardException(file + ": shard " + shard + " does not match its hash in manifest.json: the"
                + " model directory is damaged (strata verify " + dir(file) + " says more)", shard, -1, null);
    }

    private static String dir(Path file) {
        return file.getParent() == null ? "DIR" : file.getParent().toString();
    }

    /** The damaged tensor when the check was per tensor, else null. */
    public String tensor() {
        return tensor;
    }

    public int shard() {
        return shard;
    }

    public int chunk() {
        return chunk;
    }
}
