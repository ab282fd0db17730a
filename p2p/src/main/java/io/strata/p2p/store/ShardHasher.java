package io.strata.p2p.store;

import io.strata.core.manifest.ShardInfo;
import java.io.IOException;
import java.nio.file.Path;

/** Delegates to the one shard hasher, {@link io.strata.storage.model.ShardHasher} (callers may use it directly). */
public final class ShardHasher {
    private ShardHasher() {
    }

    public static String fileHash(Path file) throws IOException {
        return io.strata.storage.model.ShardHasher.fileHash(file);
    }

    /** Whole-file hash with a manifest's {@code hashAlgorithm} (SHA-256 for DOPPLER's manifests). */
    public static String fileHash(Path file, String algorithm) throws IOException {
        return io.strata.storage.model.ShardHasher.fileHash(file, algorithm);
    }

    public static ShardInfo describe(int index, Path file, long chunkSize) throws IOException {
        return io.strata.storage.model.ShardHasher.describe(index, file, chunkSize);
    }
}
