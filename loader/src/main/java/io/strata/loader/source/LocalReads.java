package io.strata.loader.source;

import io.strata.nativeaccess.posix.PageCacheControl;
import io.strata.storage.fs.FileRanges;
import io.strata.storage.model.ShardReader;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.logging.Logger;

/**
 * Reads of a local model directory's shard bytes straight into the caller's block, as the {@link ReadMode} says.
 * Why its own class: expert page-in is the one read that must run at the device's speed and must not leave a
 * second copy of the bytes behind, and the shard reader's verified path cannot give that (it reads chunks that a
 * read covers only in part a second time, through the page cache). Here: {@code O_DIRECT} positional reads of the
 * page-aligned bulk into the block itself (the block must start on a page: host blocks of experts do), the last
 * partial page through a 4 KiB bounce buffer; or a buffered positional read followed by
 * {@code posix_fadvise(DONTNEED)} of the range. Unaligned requests and file systems that refuse {@code O_DIRECT}
 * (tmpfs) get the buffered read plus DONTNEED. Reads are not verified here: {@link ByteFetcher} checks the bytes
 * against the manifest. Thread-safe; reads run concurrently (positional reads on shared channels).
 */
public final class LocalReads implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(LocalReads.class.getName());
    static final long PAGE = 4096;

    private final ShardReader origin;
    private final ReadMode mode;
    private final FileChannel[] direct; // guarded by this
    private final boolean[] refused; // guarded by this: O_DIRECT refused for that shard's file
    private final ThreadLocal<MemorySegment> bounce = ThreadLocal.withInitial(
            () -> Arena.ofAuto().allocate(PAGE, PAGE));
    private boolean closed; // guarded by this

    public LocalReads(ShardReader origin, ReadMode mode) {
        this.origin = origin;
        this.mode = mode;
        int n = origin.manifest().shards().size();
        this.direct = new FileChannel[n];
        this.refused = new boolean[n];
    }

    public ReadMode mode() {
        return mode;
    }

    /** Fills {@code dst} with its size in bytes of shard {@code shard} from {@code offset}, unverified. */
    public void read(int shard, long offset, MemorySegment dst) throws IOException {
        if (mode == ReadMode.DIRECT && offset % PAGE == 0 && dst.address() % PAGE == 0) {
            FileChannel ch = directChannel(shard);
            if (ch != null) {
                readDirect(shard, ch, offset, dst);
                return;
            }
        }
        origin.readTrusted(shard, offset, dst);
        if (mode != ReadMode.BUFFERED) {
            PageCacheControl.evict(origin.file(shard), offset, dst.byteSize()); // a hint: failure changes nothing
        }
    }

    private void readDirect(int shard, FileChannel ch, long offset, MemorySegment dst) throws IOException {
        long size = dst.byteSize();
        long bulk = size / PAGE * PAGE;
        if (bulk > 0) {
            FileRanges.readFully(ch, offset, dst.asSlice(0, bulk));
        }
        long tail = size - bulk;
        if (tail > 0) {
            MemorySegment b = bounce.get();
            ByteBuffer buf = b.asByteBuffer();
            long at = offset + bulk;
            while (buf.position() < tail) {
                int k = ch.read(buf, at + buf.position());
                if (k < 0 || (k == 0 && buf.position() < tail)) {
                    throw new IOException(origin.file(shard) + ": unexpected end of file at offset "
                            + (at + buf.position()));
                }
            }
            MemorySegment.copy(b, 0, dst, bulk, tail);
        }
    }

    private synchronized FileChannel directChannel(int shard) throws IOException {
        if (closed) {
            throw new IllegalStateException(origin.dir() + ": model is closed");
        }
        if (refused[shard]) {
            return null;
        }
        FileChannel ch = direct[shard];
        if (ch == null) {
            origin.channel(shard); // checks the file is regular and of the manifest's size
            try {
                ch = FileChannel.open(origin.file(shard), StandardOpenOption.READ,
                        com.sun.nio.file.ExtendedOpenOption.DIRECT);
            } catch (IOException | UnsupportedOperationException e) {
                refused[shard] = true;
                LOG.fine(() -> origin.file(shard) + ": O_DIRECT refused (" + e.getMessage()
                        + "); reading through the page cache and dropping the pages after");
                return null;
            }
            direct[shard] = ch;
        }
        return ch;
    }

    /** Whether shard {@code shard} is read with {@code O_DIRECT} (for benchmarks: the mode actually in force). */
    public boolean directFor(int shard) throws IOException {
        return mode == ReadMode.DIRECT && directChannel(shard) != null;
    }

    @Override
    public synchronized void close() {
        closed = true;
        for (int i = 0; i < direct.length; i++) {
            if (direct[i] != null) {
                try {
                    direct[i].close();
                } catch (IOException ignored) {
                    // read-only channel: nothing to lose
                }
                direct[i] = null;
            }
        }
    }
}
