package io.strata.loader.kv;

import io.strata.storage.codec.CorruptPageException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One sequence's spill file: page records appended at the end, read back by (offset, length). A record is never
 * rewritten (spilled pages are full and immutable), so a restored page keeps its disk copy and can drop its fast
 * copy again for free. Positional reads are thread-safe; appends happen under the store lock.
 */
final class SpillFile implements AutoCloseable {
    private final Path path;
    private final FileChannel channel;
    private long end;

    SpillFile(Path path) {
        this.path = path;
        try {
            this.channel = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create KV spill file " + path + ": " + e.getMessage(), e);
        }
    }

    Path path() {
        return path;
    }

    /** Appends {@code record}; returns its offset. */
    long append(byte[] record) {
        long at = end;
        ByteBuffer buf = ByteBuffer.wrap(record);
        try {
            long pos = at;
            while (buf.hasRemaining()) {
                pos += channel.write(buf, pos);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write KV spill file " + path + ": " + e.getMessage(), e);
        }
        end = at + record.length;
        return at;
    }

    /** Reads exactly {@code length} bytes at {@code offset}; a short file is reported as truncation. */
    byte[] read(long offset, int length, int layer, int page) throws IOException {
        byte[] record = new byte[length];
        ByteBuffer buf = ByteBuffer.wrap(record);
        long pos = offset;
        while (buf.hasRemaining()) {
            int n = channel.read(buf, pos);
            if (n < 0) {
                throw new CorruptPageException(path + " layer " + layer + " page " + page
                        + ": spill file truncated (ends at " + pos + ", record needs bytes up to "
                        + (offset + length) + ")");
            }
            pos += n;
        }
        return record;
    }

    @Override
    public void close() {
        try {
            channel.close();
            Files.deleteIfExists(path);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete KV spill file " + path + ": " + e.getMessage(), e);
        }
    }
}
