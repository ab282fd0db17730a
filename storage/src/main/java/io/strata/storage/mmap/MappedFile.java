package io.strata.storage.mmap;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A read-only memory mapping of a whole file in its own shared arena, reference counted: the mapping is
 * released when the last holder calls {@link #release()}. A segment read after that throws
 * {@link IllegalStateException} (the arena is closed) instead of crashing the JVM. One mapping per file: FFM
 * segments are long-indexed, so Lucene's 1 GiB chunking for ByteBuffers is not needed here.
 */
public final class MappedFile {
    private final Path path;
    private final Arena arena;
    private final MemorySegment segment;
    private final AtomicInteger refs = new AtomicInteger(1);

    private MappedFile(Path path, Arena arena, MemorySegment segment) {
        this.path = path;
        this.arena = arena;
        this.segment = segment;
    }

    /** Maps {@code path} read-only; the caller holds the first reference. */
    public static MappedFile open(Path path) throws IOException {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            MemorySegment seg = size == 0 ? MemorySegment.NULL
                    : ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            return new MappedFile(path, arena, seg);
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    public long size() {
        return segment.byteSize();
    }

    /** The whole mapping; valid until the last release. */
    public MemorySegment segment() {
        if (refs.get() <= 0) {
            throw new IllegalStateException("mapping of " + path + " is already closed");
        }
        return segment;
    }

    public MemorySegment slice(long offset, long length) {
        return segment().asSlice(offset, length);
    }

    public MappedFile retain() {
        while (true) {
            int r = refs.get();
            if (r <= 0) {
                throw new IllegalStateException("mapping of " + path + " is already closed");
            }
            if (refs.compareAndSet(r, r + 1)) {
                return this;
            }
        }
    }

    public void release() {
        int r = refs.decrementAndGet();
        if (r == 0) {
            arena.close();
        } else if (r < 0) {
            throw new IllegalStateException("mapping of " + path + " released more times than retained");
        }
    }

    public boolean isOpen() {
        return refs.get() > 0;
    }
}
