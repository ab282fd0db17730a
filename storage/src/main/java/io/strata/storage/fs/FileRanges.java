package io.strata.storage.fs;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/** Positional reads and writes between files and memory segments of any size (ByteBuffers stop at 2 GiB). */
public final class FileRanges {
    private static final int IO_CHUNK = 1 << 30;

    private FileRanges() {
    }

    /** Fills {@code dst} from {@code ch} starting at file offset {@code position}. */
    public static void readFully(FileChannel ch, long position, MemorySegment dst) throws IOException {
        for (long off = 0; off < dst.byteSize(); off += IO_CHUNK) {
            ByteBuffer buf = dst.asSlice(off, Math.min(IO_CHUNK, dst.byteSize() - off)).asByteBuffer();
            while (buf.hasRemaining()) {
                if (ch.read(buf, position + off + buf.position()) < 0) {
                    throw new IOException("unexpected end of file at offset " + (position + off + buf.position()));
                }
            }
        }
    }

    /** Writes all of {@code src} to {@code ch} starting at file offset {@code position}. */
    public static void writeFully(FileChannel ch, long position, MemorySegment src) throws IOException {
        for (long off = 0; off < src.byteSize(); off += IO_CHUNK) {
            ByteBuffer buf = src.asSlice(off, Math.min(IO_CHUNK, src.byteSize() - off)).asByteBuffer();
            while (buf.hasRemaining()) {
                ch.write(buf, position + off + buf.position());
            }
        }
    }
}
