package io.strata.storage.convert;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * Writes shard files through one off-heap staging buffer: tensor bytes go from the mapped source into the
 * buffer (copied, transposed tile by tile, or gathered from a strided view such as one expert's gate columns
 * interleaved with its up columns in a fused checkpoint tensor) and from there to the file channel. Large untransposed ranges are
 * written straight from the source mapping. Memory use is the buffer, whatever the checkpoint size.
 */
final class ShardWriter implements AutoCloseable {
    static final long STAGING = 8L << 20;
    private static final long DIRECT_WRITE = 1L << 20;
    private static final long MAX_BUFFER_VIEW = 1L << 30;

    private final Arena arena = Arena.ofConfined();
    private MemorySegment staging;
    private long fill;
    private FileChannel channel;
    private long position;

    ShardWriter() {
        staging = arena.allocate(STAGING, 4096);
    }

    /** Starts a new shard file. */
    void begin(FileChannel ch) {
        channel = ch;
        position = 0;
        fill = 0;
    }

    long position() {
        return position + fill;
    }

    /** Writes zeros up to {@code offset}. */
    void padTo(long offset) throws IOException {
        long n = offset - position();
        if (n < 0) {
            throw new IllegalStateException("cannot pad backwards to " + offset + " from " + position());
        }
        while (n > 0) {
            long k = Math.min(n, staging.byteSize() - fill);
            if (k == 0) {
                flush();
                continue;
            }
            staging.asSlice(fill, k).fill((byte) 0);
            fill += k;
            n -= k;
        }
    }

    /**
     * Writes the stored form of one slice of {@code src} (the source tensor's data; unit {@code (r, c)} at
     * {@code r * rowPitch + c * colPitch}).
     */
    void write(MemorySegment src, SliceSpec s) throws IOException {
        int e = s.elementSize();
        long height = s.transpose() ? s.c1() - s.c0() : s.r1() - s.r0(); // stored rows
        long width = s.transpose() ? s.r1() - s.r0() : s.c1() - s.c0(); // stored units per row
        if (width == 0 || height == 0) {
            return; // an empty tensor stores no bytes
        }
        long rowPitch = s.transpose() ? s.colPitch() : s.rowPitch(); // source step between stored rows
        long colPitch = s.transpose() ? s.rowPitch() : s.colPitch(); // source step along a stored row
        long base = s.r0() * s.rowPitch() + s.c0() * s.colPitch();
        long rowBytes = width * e;
        if (colPitch == e) {
            if (rowPitch == rowBytes) {
                copy(src.asSlice(base, height * rowBytes));
            } else {
                for (long r = 0; r < height; r++) {
                    copy(src.asSlice(base + r * rowPitch, rowBytes));
                }
            }
            return;
        }
        // Strided: gather in bands of whole stored rows. Stored row j of a transpose is a source column.
        ensureCapacity(rowBytes);
        long band = Math.max(1, staging.byteSize() / rowBytes);
        if (band >= Transpose.TILE) {
            band -= band % Transpose.TILE;
        }
        for (long j0 = 0; j0 < height; j0 += band) {
            long k = Math.min(band, height - j0);
            if (staging.byteSize() - fill < k * rowBytes) {
                flush();
            }
            if (rowPitch == e) {
                // a plain transpose: the source holds the stored matrix's columns as contiguous rows
                Transpose.blocked(src, base + j0 * e, colPitch, width, k, staging, fill, rowBytes, e);
            } else {
                Transpose.gather(src, base + j0 * rowPitch, rowPitch, colPitch, k, width, staging, fill, rowBytes, e);
            }
            fill += k * rowBytes;
        }
    }

    private void copy(MemorySegment seg) throws IOException {
        long n = seg.byteSize();
        if (n >= DIRECT_WRITE) {
            flush();
            for (long off = 0; off < n; off += MAX_BUFFER_VIEW) {
                drain(seg.asSlice(off, Math.min(MAX_BUFFER_VIEW, n - off)).asByteBuffer());
            }
            position += n;
            return;
        }
        if (staging.byteSize() - fill < n) {
            flush();
        }
        MemorySegment.copy(seg, 0, staging, fill, n);
        fill += n;
    }

    private void ensureCapacity(long bytes) throws IOException {
        if (bytes > staging.byteSize()) {
            flush();
            // One stored row larger than the buffer (a dimension of millions of elements): grow once.
            staging = arena.allocate(bytes, 4096);
        }
    }

    /** Writes out what the buffer holds. */
    void flush() throws IOException {
        if (fill > 0) {
            drain(staging.asSlice(0, fill).asByteBuffer());
            position += fill;
            fill = 0;
        }
    }

    private void drain(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            channel.write(b);
        }
    }

    @Override
    public void close() {
        arena.close();
    }
}
