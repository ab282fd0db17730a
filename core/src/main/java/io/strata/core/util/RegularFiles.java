package io.strata.core.util;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Reads the small files Strata parses whole (manifest.json, config.json, index files). A FIFO or a symlink to a
 * device such as {@code /dev/zero} would hang or exhaust memory in {@link Files#readAllBytes}: only regular files
 * are opened, and never more than the stated limit is read, whatever the file claims its size is.
 */
public final class RegularFiles {
    private RegularFiles() {
    }

    /**
     * The bytes of {@code file}, which must be a regular file (symlinks followed) of at most {@code maxBytes}.
     *
     * @throws java.nio.file.NoSuchFileException when it does not exist
     * @throws IOException with a message naming the file and the reason otherwise
     */
    public static byte[] read(Path file, long maxBytes) throws IOException {
        if (maxBytes < 0 || maxBytes >= Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("limit must be in [0, 2 GiB), got " + maxBytes);
        }
        requireRegular(file);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size > maxBytes) {
                throw new IOException(file + ": is " + size + " bytes, over the " + maxBytes + " byte limit");
            }
            // read one byte more than the limit allows, so a file that grows while we read is caught too
            ByteBuffer buf = ByteBuffer.allocate((int) Math.min(maxBytes + 1, Math.max(size + 1, 8192)));
            while (true) {
                int n = ch.read(buf);
                if (n < 0) {
                    break;
                }
                if (!buf.hasRemaining()) {
                    if (buf.capacity() > maxBytes) {
                        throw new IOException(file + ": is over the " + maxBytes + " byte limit");
                    }
                    ByteBuffer bigger = ByteBuffer.allocate((int) Math.min(maxBytes + 1, 2L * buf.capacity()));
                    bigger.put(buf.flip());
                    buf = bigger;
                }
            }
            byte[] out = new byte[buf.position()];
            buf.flip().get(out);
            return out;
        }
    }

    /** Throws unless {@code file} is a regular file (after following symlinks). */
    public static void requireRegular(Path file) throws IOException {
        BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
        if (!a.isRegularFile()) {
            throw new IOException(file + ": not a regular file (" + (a.isDirectory() ? "a directory"
                    : "a FIFO, socket or device") + ")");
        }
    }
}
