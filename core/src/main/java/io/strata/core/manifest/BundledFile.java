package io.strata.core.manifest;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.List;

/**
 * A small file that travels with the model but holds no tensors (the tokenizer's {@code tokenizer.json}, its
 * config, the chat template): hashed like a shard, whole file and per {@code chunkSize} chunk, so {@code verify}
 * checks it and a peer fetch verifies every chunk of it, with the same machinery as the shards.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record BundledFile(String filename, long size, String hash, List<String> chunks) {
    public BundledFile {
        chunks = chunks == null ? List.of() : List.copyOf(chunks);
    }

    /** The file as a shard numbered {@code index}, for code that moves and verifies shards. */
    public ShardInfo asShard(int index) {
        return new ShardInfo(index, filename, size, hash, chunks);
    }

    public static BundledFile of(ShardInfo s) {
        return new BundledFile(s.filename(), s.size(), s.hash(), s.chunks());
    }
}
