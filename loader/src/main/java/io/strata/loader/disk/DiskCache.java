package io.strata.loader.disk;

import io.strata.core.util.CacheDirs;
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
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The content-addressed disk tier: blobs named by their BLAKE3 hash ({@code blobs/ab/abcd...}) under a cache
 * directory that outlives the process, with its own byte budget (a {@link MemoryLedger} named {@code disk}).
 * A blob is verified against its name before it is imported and written atomically (temp file, then rename), so
 * a crash never leaves a partial blob under a real name. Least recently used blobs not being read are deleted to
 * make room. Safe for concurrent use within one process.
 */
public final class DiskCache implements Evictor, AutoCloseable {
    private static final Pattern HASH = Pattern.compile("[0-9a-f]{64}");

    private final Path blobs;
    private final MemoryLedger ledger;
    private final TierCounters counters;
    private final LinkedHashMap<String, Blob> index = new LinkedHashMap<>(64, 0.75f, true); // LRU order
    private final Set<String> writing = new HashSet<>();

    private static final class Blob {
        final long size;
        final Reservation reservation;
        int readers;

        Blob(long size, Reservation reservation) {
            this.size = size;
            this.reservation = reservation;
        }
    }

    /** Opens (creating if needed) the cache at {@code dir}; existing blobs count against {@code budget}. */
    public DiskCache(Path dir, long budget, TierCounters counters) throws IOException {
        this.blobs = dir.resolve("blobs");
        this.ledger = new MemoryLedger("disk", budget);
        this.counters = counters;
        Files.createDirectories(blobs);
        ledger.registerEvictor(Pool.WEIGHTS, this);
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
            Reservation r = ledger.tryReserve(Pool.WEIGHTS, f.size());
            if (r == null) { // over budget (budget lowered since last run): drop the oldest
                evict(f.size());
                r = ledger.tryReserve(Pool.WEIGHTS, f.size());
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
     * Copies blob {@code hash} into {@code dst} if the cache has it.
     *
     * @return false on a miss (or a blob of the wrong size, which is then dropped)
     */
    public boolean read(String hash, MemorySegment dst) throws IOException {
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
                counters.miss();
                drop(hash);
                return false;
            }
            try (FileChannel ch = FileChannel.open(path(hash), StandardOpenOption.READ)) {
                FileRanges.readFully(ch, 0, dst);
            }
            counters.hit();
            counters.bytesOut(dst.byteSize());
            touch(hash);
            return true;
        } finally {
            synchronized (this) {
                b.readers--;
            }
        }
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
        Path target = path(hash);
        synchronized (this) {
            if (index.containsKey(hash) || !writing.add(hash)) {
                return;
            }
        }
        Reservation r = null;
        Path tmp = null;
        try {
            String actual = Blake3.hashHex(src);
            if (!actual.equals(hash)) {
                throw new IOException("disk cache: content to import as " + hash + " hashes to " + actual
                        + " (corrupt source); not cached");
            }
            r = ledger.reserve(Pool.WEIGHTS, src.byteSize());
            long t0 = System.nanoTime();
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
            tmp = null;
            counters.pageIn(hash.substring(0, 12), null, src.byteSize(), System.nanoTime() - t0);
            synchronized (this) {
                index.put(hash, new Blob(src.byteSize(), r));
            }
            r = null;
        } finally {
            if (tmp != null) {
                Files.deleteIfExists(tmp);
            }
            if (r != null) {
                r.close();
            }
            synchronized (this) {
                writing.remove(hash);
            }
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
        ledger.unregisterEvictor(Pool.WEIGHTS, this);
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "disk cache %s (%s)", blobs.getParent(), ledger);
    }
}
