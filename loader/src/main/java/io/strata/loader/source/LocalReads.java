package io.strata.loader.source;

import io.strata.loader.runtime.ReadMode;
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
    /** Pieces of one large read in flight together (queue depth for the device). */
    public static final long PIECE = 2L << 20;
    private static final int PIECE_READERS = 4;
    private final java.util.concurrent.ExecutorService pieces;

    public LocalReads(ShardReader origin, ReadMode mode) {
        this.origin = origin;
        this.mode = mode;
        int n = origin.manifest().shards().size();
        this.direct = new FileChannel[n];
        this.refused = new boolean[n];
        java.util.concurrent.atomic.AtomicInteger k = new java.util.concurrent.atomic.AtomicInteger();
        this.pieces = java.util.concurrent.Executors.newFixedThreadPool(PIECE_READERS, r -> {
            Thread t = new Thread(r, "strata-read-" + k.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Reads {@code dst} as {@link #PIECE}-sized pieces, all issued at once on the piece readers, and hands each
     * piece to {@code consumer} in order as soon as it and those before it are in: the caller hashes piece i
     * while later pieces are still being read, so verifying costs no time of its own beyond the last piece.
     */
    public void readPieces(int shard, long offset, MemorySegment dst, PieceConsumer consumer) throws IOException {
        long size = dst.byteSize();
        int n = (int) ((size + PIECE - 1) / PIECE);
        if (n <= 1) {
            read(shard, offset, dst);
            consumer.accept(dst);
            return;
        }
        java.util.List<java.util.concurrent.Future<?>> fs = new java.util.ArrayList<>(n);
        try {
            for (int i = 0; i < n; i++) {
                long at = i * PIECE;
                MemorySegment part = dst.asSlice(at, Math.min(PIECE, size - at));
                fs.add(pieces.submit(() -> {
                    read(shard, offset + at, part);
                    return null;
                }));
            }
            for (int i = 0; i < n; i++) {
                try {
                    fs.get(i).get();
                } catch (java.util.concurrent.ExecutionException e) {
                    if (e.getCause() instanceof IOException io) {
                        throw io;
                    }
                    throw new IOException(origin.file(shard) + ": read failed: " + e.getCause(), e.getCause());
                }
                long at = i * PIECE;
                consumer.accept(dst.asSlice(at, Math.min(PIECE, size - at)));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted reading " + origin.file(shard));
        } finally {
            for (java.util.concurrent.Future<?> f : fs) {
                if (!f.isDone()) { // an earlier piece failed: wait for the rest, which write into dst
                    try {
                        f.get();
                    } catch (Exception ignored) {
                        // the first failure is reported
                    }
                }
            }
        }
    }

    /** Takes the pieces of a read, in order. */
    @FunctionalInterface
    public interface PieceConsumer {
        void accept(MemorySegment piece) throws IOException;
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
        pieces.shutdown();
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
