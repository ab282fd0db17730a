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
    /**
     * Pieces of one large read in flight together (queue depth for the device); {@code -Dstrata.read.piece}
     * (bytes, a power of two of at least 64 KiB) and {@code -Dstrata.read.readers} override, for measurements.
     */
    public static final long PIECE = pieceSize();
    private static final int PIECE_READERS = Integer.getInteger("strata.read.readers", 4);
    private final ReadQueue pieces;

    public LocalReads(ShardReader origin, ReadMode mode) {
        this.origin = origin;
        this.mode = mode;
        int n = origin.manifest().shards().size();
        this.direct = new FileChannel[n];
        this.refused = new boolean[n];
        this.pieces = new ReadQueue(PIECE_READERS, "strata-read-");
    }

    private static long pieceSize() {
        long p = Long.getLong("strata.read.piece", 2L << 20);
        if (p < (64 << 10) || Long.bitCount(p) != 1) {
            throw new IllegalArgumentException("strata.read.piece must be a power of two of at least 64 KiB, got " + p);
        }
        return p;
    }

    /** The reader threads' queue: reads of the load bound to {@link ReadQueue#TICKET} go under its ticket. */
    public ReadQueue queue() {
        return pieces;
    }

    /**
     * Reads {@code dst} as {@link #PIECE}-sized pieces, all queued at once on the piece readers under the current
     * load's {@link ReadQueue#TICKET}; with {@code hash}, each reader also hashes its piece as a BLAKE3 subtree
     * right after reading it (pieces start on multiples of a power-of-two number of chunks), so verifying runs in
     * parallel with the reads and the caller only joins the pieces' chaining values. Returns the BLAKE3 hash of
     * {@code dst} when {@code hash}, else null. Throws {@link ReadQueue.ReadCancelledException} when the ticket was
     * cancelled before every piece was read (the pieces already started are waited for: they write into dst).
     */
    public byte[] readPieces(int shard, long offset, MemorySegment dst, boolean hash) throws IOException {
        long size = dst.byteSize();
        int n = (int) ((size + PIECE - 1) / PIECE);
        ReadQueue.Ticket ticket = ReadQueue.TICKET.isBound() ? ReadQueue.TICKET.get() : null;
        if (n <= 1) {
            join(shard, pieces.submit(ticket, () -> read(shard, offset, dst)));
            return hash ? io.strata.core.hash.Blake3.hash(dst) : null;
        }
        byte[][] cvs = hash ? new byte[n][] : null;
        long chunksPerPiece = PIECE / 1024;
        java.util.List<java.util.concurrent.CompletableFuture<Void>> fs = new java.util.ArrayList<>(n);
        IOException first = null;
        try {
            for (int i = 0; i < n; i++) {
                long at = i * PIECE;
                int k = i;
                MemorySegment part = dst.asSlice(at, Math.min(PIECE, size - at));
                fs.add(pieces.submit(ticket, () -> {
                    read(shard, offset + at, part);
                    if (cvs != null) {
                        cvs[k] = io.strata.core.hash.Blake3.subtreeChainingValue(part, k * chunksPerPiece);
                    }
                }));
            }
        } finally {
            for (var f : fs) { // every piece, even after a failure: started ones write into dst
                try {
                    join(shard, f);
                } catch (IOException e) {
                    if (first == null || first instanceof ReadQueue.ReadCancelledException) {
                        first = e;
                    }
                }
            }
        }
        if (first != null) {
            throw first;
        }
        return hash ? io.strata.core.hash.Blake3.rootFromSubtrees(java.util.Arrays.asList(cvs)) : null;
    }

    private IOException join(int shard, java.util.concurrent.CompletableFuture<Void> f) throws IOException {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    f.get();
                    return null;
                } catch (InterruptedException e) {
                    interrupted = true; // the piece writes into the caller's block: wait for it regardless
                } catch (java.util.concurrent.ExecutionException e) {
                    if (e.getCause() instanceof IOException io) {
                        throw io;
                    }
                    throw new IOException(origin.file(shard) + ": read failed: " + e.getCause(), e.getCause());
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
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
        pieces.close();
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
