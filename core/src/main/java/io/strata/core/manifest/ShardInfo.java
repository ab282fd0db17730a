package io.strata.core.manifest;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.List;

/** One shard file: its whole-file BLAKE3 hash and one hash per {@code chunkSize} bytes (the last may be short). */
@JsonIgnoreProperties(ignoreUnknown = true)
public record ShardInfo(int index, String filename, long size, String hash, List<String> chunks) {
    public ShardInfo {
        chunks = chunks == null ? List.of() : List.copyOf(chunks);
    }

    /** Byte range [start, end) of chunk {@code i} for the given chunk size. */
    public long chunkStart(int i, long chunkSize) {
        return i * chunkSize;
    }

    public long chunkLength(int i, long chunkSize) {
        return Math.min(chunkSize, size - i * chunkSize);
    }

    /** Chunks of a {@code size}-byte shard; ArithmeticException when there are more than an int can count. */
    public static int chunkCount(long size, long chunkSize) {
        return size == 0 ? 0 : Math.toIntExact(Math.ceilDiv(size, chunkSize));
    }
}
