package io.strata.loader.runtime;

import java.util.Locale;

/**
 * How expert bytes are read from a local model directory. Why a choice: a buffered read leaves the same bytes in
 * the page cache after they were copied into the host tier's block, so a model bigger than memory is held twice
 * (the page cache is reclaimable, but it competes with the tier under a cgroup limit); {@code O_DIRECT} reads go
 * from the device into the block with no page-cache copy at all; dropping the pages after a buffered read
 * ({@code posix_fadvise(DONTNEED)}) keeps the kernel's readahead but not the copy.
 */
public enum ReadMode {
    /** {@code O_DIRECT} into the page-aligned block; falls back to {@link #DROP} where the file system refuses. */
    DIRECT,
    /** Buffered positional read, then {@code posix_fadvise(DONTNEED)} on the range read. */
    DROP,
    /** Plain buffered positional read; the page cache keeps its copy. */
    BUFFERED;

    public static ReadMode parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("read mode '" + s + "': expected direct, drop or buffered");
        }
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
