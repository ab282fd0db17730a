package io.strata.storage.convert;

/** Told how far a conversion got; called from the converting thread only. */
public interface ProgressListener {
    ProgressListener NONE = new ProgressListener() {
    };

    /** Before the first byte: the bytes of tensor data to write. */
    default void start(long totalBytes, int shards) {
    }

    /** {@code bytes} more tensor bytes were written; {@code tensor} is the one being written. */
    default void advance(long bytes, String tensor) {
    }

    /** A shard file was written (its hashes may still be computing). */
    default void shardWritten(int index, int shards) {
    }

    /** After the output directory was committed, or after a failure. */
    default void finish(boolean success) {
    }
}
