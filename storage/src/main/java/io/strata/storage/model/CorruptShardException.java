package io.strata.storage.model;

import java.io.IOException;
import java.nio.file.Path;

/** Bytes of a shard whose BLAKE3 does not match the manifest's chunk hash: the model directory is damaged. */
public final class CorruptShardException extends IOException {
    private final int shard;
    private final int chunk;

    CorruptShardException(Path file, int shard, int chunk, long start, long end) {
        super(file + ": chunk " + chunk + " (bytes [" + start + ", " + end + ")) of shard " + shard
                + " does not match its BLAKE3 in manifest.json: the model directory is damaged (strata verify "
                + (file.getParent() == null ? "DIR" : file.getParent()) + " lists every bad chunk)");
        this.shard = shard;
        this.chunk = chunk;
    }

    public int shard() {
        return shard;
    }

    public int chunk() {
        return chunk;
    }
}
