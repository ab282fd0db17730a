package io.strata.p2p.store;

import io.strata.core.hash.Blake3;
import io.strata.core.manifest.ShardInfo;
import io.strata.storage.mmap.MappedFile;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** BLAKE3 of shard files as the manifest records them: whole-file hash and per-chunk hashes. */
public final class ShardHasher {
    private ShardHasher() {
    }

    /** Whole-file hash (hex) of {@code file}. */
    public static String fileHash(Path file) throws IOException {
        MappedFile mf = MappedFile.open(file);
        try {
            return Blake3.hashHex(mf.segment());
        } finally {
            mf.release();
        }
    }

    /** The manifest entry for {@code file} as shard {@code index}. */
    public static ShardInfo describe(int index, Path file, long chunkSize) throws IOException {
        MappedFile mf = MappedFile.open(file);
        try {
            MemorySegment seg = mf.segment();
            List<String> chunks = new ArrayList<>();
            for (byte[] h : Blake3.chunkHashes(seg, chunkSize)) {
                chunks.add(Blake3.hex(h));
            }
            return new ShardInfo(index, file.getFileName().toString(), seg.byteSize(), Blake3.hashHex(seg), chunks);
        } finally {
            mf.release();
        }
    }
}
