package io.strata.loader.disk;

import io.strata.core.util.CacheDirs;
import io.strata.storage.fs.FileRanges;
import io.strata.core.hash.Blake3;
import io.strata.core.memory.BudgetExceededException;
import io.strata.core.memory.Evictor;
import io.strata.core.memory.MemoryLedger;
import io.strata.core.memory.Pool;
import io.strata.core.memory.Reservation;
import io.strata.core.model.Tier;
import io.strata.core.telemetry.TierCounters;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The content-addressed disk tier: blobs named by their BLAKE3 hash ({@code blobs/ab/abcd...}) under a cache
 * directory that outlives the process, with its own byte budget (a {@link MemoryLedger} named {@code disk}, pool
 * {@link Pool#EXPERTS}: the blobs are cached experts). A blob is verified against its name before it is imported
 * and written atomically (temp file, then rename), so a crash never leaves a partial blob under a real name; and
 * it is verified again every time it is read into a tier (unless the cache is opened trusting local files): a blob
 * that no longer matches its name is deleted, counted ({@link #corruptBlobs()}) and reported as a miss, so the
 * bytes come again from the tier below. Least recently used blobs not being read are deleted to make room.
 *
 * <p>The cache is optional: when a blob cannot be written (a full or read-only file system) the cache stops
 * importing, with one warning, and the run goes on reading from the tier below. Safe for concurrent use within
 * one process.
 */
public final class DiskCache implements Evictor, AutoCloseable {
    private static final Pattern HASH = Pattern.compile("[0-9a-f]{64}");
    private static final Logger LOG = Logger.getLogger(DiskCache.class.getName());

    private final Path blobs;
    private final MemoryLedger ledger;
    private final TierCounters counters;
    private final LinkedHashMap<String, Blob> index = new LinkedHashMap<>(64, 0.75f, true); // LRU order
    private final Set<String> writing = new HashSet<>();
    private final boolean verify;
    private final AtomicLong corrupt = new AtomicLong();
    private volatile String writeFailure;

    private static final class Blob {
        final long size;
        final Reservation reservation;
        int readers;
        boolean corrupt;

        Blob(long size, Reservation reservation) {
            this.size = size;
            this.reservation = reservation;
        }
    }

    /** Opens (creating if needed) the cache at {@code dir}; existing blobs count against {@code budget}. */
    public DiskCache(Path dir, long budget, TierCounters counters) throws IOException {
        this(dir, budget, counters, true);
    }

    /** As above; {@code verifyReads} false trusts blobs on read (they are still verified when imported). */
    public DiskCache(Path dir, long budget, TierCounters counters, boolean verifyReads) throws IOException {
        this.blobs = dir.resolve("blobs");
        this.ledger = new MemoryLedger("disk", budget);
        this.counters = counters;
        this.verify = verifyReads;
        Files.createDirectories(blobs);
        ledger.registerEvictor(Pool.EXPERTS, this);
        scan();
    }

    /** The default location: {@link CacheDirs#root()}. */
    public static Path defaultDir() {
        return CacheDirs.root();
    }

    private void scan() throws IOException {
        record Found(Path path, String hash, long size, FileTime mtime) {
        }
        List<Found> found = new ArrayList<>();
        try (Stream<Path> s = Files.walk(blobs, 2)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                if (!Files.isRegularFile(p)) {
                    continue;
                }
                String name = p.getFileName().toString();
                if (name.endsWith(".tmp")) {
                    Files.deleteIfExists(p); // a write interrupted by a crash
                } else if (HASH.matcher(name).matches()) {
                    found.add(new Found(p, name, Files.size(p), Files.getLastModifiedTime(p)));
                }
            }
        }
        found.sort(Comparator.comparing(Found::mtime));
        synchronized (this) {
            for (Found f : found) {
                index.put(f.hash(), new Blob(f.size(), null)); // reserved below, oldest first
            }
        }
        for (Found f : found) {
            Reservation r = ledger.tryReserve(Pool.EXPERTS, f.size());
            if (r == null) { // over budget (budget lowered since last run): drop the oldest
                evict(f.size());
                r = ledger.tryReserve(Pool.EXPERTS, f.size());
            }
            synchronized (this) {
                if (r == null) {
                    index.remove(f.hash());
                    Files.deleteIfExists(f.path());
                } else if (index.containsKey(f.hash())) {
                    index.put(f.hash(), new Blob(f.size(), r));
                } else {
                    r.close();
                }
            }
        }
    }

    public MemoryLedger ledger() {
        return ledger;
    }

    private Path path(String hash) {
        if (!HASH.matcher(hash).matches()) {
            throw new IllegalArgumentException("not a BLAKE3 hex hash: '" + hash + "'");
        }
        return blobs.resolve(hash.substring(0, 2)).resolve(hash);
    }

    public synchronized boolean contains(String hash) {
        return index.containsKey(hash);
    }

    /** Bytes held by blobs on disk. */
    public long usedBytes() {
        return ledger.used();
    }

    /**
     * Copies blob {@code hash} into {@code dst} if the cache has it, verifying that the bytes still hash to the
     * name (unless opened trusting reads).
     *
     * @return false on a miss, or for a blob of the wrong size or content, which is then deleted
     */
    public boolean read(String hash, MemorySegment dst) {
        Blob b;
        synchronized (this) {
            b = index.get(hash);
            if (b == null || b.reservation == null) {
                counters.miss();
                return false;
            }
            b.readers++;
        }
        try {
            if (b.size != dst.byteSize()) {
                corrupted(hash);
                return false;
            }
            try (FileChannel ch = FileChannel.open(path(hash), StandardOpenOption.READ)) {
                FileRanges.readFully(ch, 0, dst);
            } catch (IOException e) { // truncated, removed behind our back, unreadable: a damaged entry
                corrupted(hash);
                return false;
            }
            if (verify && !Blake3.hashHex(dst).equals(hash)) {
                corrupted(hash);
                return false;
            }
            counters.hit();
            counters.bytesOut(dst.byteSize());
            touch(hash);
            return true;
        } finally {
            boolean remove;
            synchronized (this) {
                b.readers--;
                remove = b.corrupt;
            }
            if (remove) {
                try {
                    drop(hash);
                } catch (UncheckedIOException e) {
                    LOG.fine(e::getMessage); // a read-only cache: the damaged blob stays, and keeps missing
                }
            }
        }
    }

    /** A blob whose bytes no longer match its name: deleted once no one reads it, counted, the first one logged. */
    private void corrupted(String hash) {
        counters.miss();
        long n = corrupt.incrementAndGet();
        synchronized (this) {
            Blob b = index.get(hash);
            if (b != null) {
                b.corrupt = true; // deleted by the last reader (below) or now
            }
        }
        LOG.log(n == 1 ? Level.WARNING : Level.FINE, () -> "disk cache " + blobs.getParent() + ": blob " + hash
                + " does not match its BLAKE3 name (damaged on disk); deleted, its bytes are read again from the"
                + " model" + (n == 1 ? " (further damaged blobs are counted, not logged)" : ""));
    }

    /** Blobs found damaged on read (and deleted) since the cache was opened. */
    public long corruptBlobs() {
        return corrupt.get();
    }

    /** Why imports stopped (a full or read-only cache file system), or null while the cache still imports. */
    public String writeFailure() {
        return writeFailure;
    }

    private void touch(String hash) {
        try {
            Files.setLastModifiedTime(path(hash), FileTime.fromMillis(System.currentTimeMillis()));
        } catch (IOException e) {
            // recency across runs is a hint; a read-only cache dir still serves reads
        }
    }

    /**
     * Imports {@code src} under {@code hash} after checking that it hashes to it. Does nothing when the blob is
     * there already or being written by another thread.
     *
     * @throws IOException when the content does not match its hash (nothing is written)
     * @throws BudgetExceededException when the blob cannot fit even after evicting every idle blob
     */
    public void put(String hash, MemorySegment src) throws IOException {
        put(hash, src, false);
    }

    /**
     * As {@link #put(String, MemorySegment)}; {@code verified} says the caller has already checked these bytes
     * against the manifest (chunk by chunk), so they are not hashed again. A blob that cannot be written (the cache
     * file system is full or read-only) stops all further imports with one warning instead of failing the caller:
     * the disk cache is optional.
     */
    public void put(String hash, MemorySegment src, boolean verified) throws IOException {
        Path target = path(hash);
        synchronized (this) {
            if (writeFailure != null || index.containsKey(hash) || !writing.add(hash)) {
                return;
            }
        }
        Reservation r = null;
        Path tmp = null;
        try {
            String actual = verified ? hash : Blake3.hashHex(src);
            if (!actual.equals(hash)) {
                throw new IOException("disk cache: content to import as " + hash + " hashes to " + actual
                        + " (corrupt source); not cached");
            }
            r = ledger.reserve(Pool.EXPERTS, src.byteSize());
            long t0 = System.nanoTime();
            try {
                Files.createDirectories(target.getParent());
                tmp = Files.createTempFile(target.getParent(), hash.substring(0, 8), ".tmp");
                try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                    FileRanges.writeFully(ch, 0, src);
                }
                try {
                    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
                }
            } catch (IOException e) {
                stopImporting(e);
                return;
            }
            tmp = null;
            counters.pageIn(hash.substring(0, 12), null, src.byteSize(), System.nanoTime() - t0);
            synchronized (this) {
                index.put(hash, new Blob(src.byteSize(), r));
            }
            r = null;
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // the next open's scan removes a leftover .tmp
                }
            }
            if (r != null) {
                r.close();
            }
            synchronized (this) {
                writing.remove(hash);
            }
        }
    }

    private void stopImporting(IOException e) {
        String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        boolean first;
        synchronized (this) {
            first = writeFailure == null;
            if (first) {
                writeFailure = why;
            }
        }
        if (first) {
            LOG.warning(() -> "disk cache " + blobs.getParent() + ": cannot write a blob (" + why + "); continuing"
                    + " without caching on disk");
        }
    }

    private void drop(String hash) {
        Blob b;
        synchronized (this) {
            b = index.get(hash);
            if (b == null || b.readers > 0) {
                return;
            }
            index.remove(hash);
        }
        delete(hash, b);
    }

    private void delete(String hash, Blob b) {
        try {
            Files.deleteIfExists(path(hash));
        } catch (IOException e) {
            throw new UncheckedIOException("disk cache: cannot delete blob " + path(hash) + ": " + e.getMessage(), e);
        } finally {
            if (b.reservation != null) {
                b.reservation.close();
            }
        }
        counters.evicted(hash.substring(0, 12), b.size);
    }

    /** Deletes least recently used blobs that nobody is reading. */
    @Override
    public long evict(long bytes) {
        Map<String, Blob> victims = new LinkedHashMap<>();
        long freed = 0;
        synchronized (this) {
            Iterator<Map.Entry<String, Blob>> it = index.entrySet().iterator();
            while (it.hasNext() && freed < bytes) {
                Map.Entry<String, Blob> e = it.next();
                if (e.getValue().readers == 0 && e.getValue().reservation != null) {
                    victims.put(e.getKey(), e.getValue());
                    freed += e.getValue().size;
                    it.remove();
                }
            }
        }
        victims.forEach(this::delete);
        return freed;
    }

    @Override
    public synchronized long pinnedBytes() {
        long n = 0;
        for (Blob b : index.values()) {
            if (b.readers > 0) {
                n += b.size;
            }
        }
        return n;
    }

    public Tier tier() {
        return Tier.DISK;
    }

    @Override
    public void close() {
        ledger.unregisterEvictor(Pool.EXPERTS, this);
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "disk cache %s (%s)", blobs.getParent(), ledger);
    }
}
