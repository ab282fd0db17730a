package io.strata.loader.kv;

import io.strata.core.kv.KvPageView;
import io.strata.core.memory.Evictor;
import io.strata.core.memory.MemoryLedger;
import io.strata.core.memory.Pool;
import io.strata.core.memory.Reservation;
import io.strata.core.util.LruOrder;
import io.strata.storage.fs.OwnedTempDir;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The paged KV cache of every sequence in a process. Raw float32 pages live in the fast tier (device budget);
 * when it is full the coldest page that is neither pinned nor inside its layer's sliding window is encoded
 * (byte planes + LZ4/zstd, checksummed) into host memory, and the coldest host records go on to a per-sequence
 * spill file. Reading a spilled page brings it back bit-exact and prefetches the next page of the layer on a
 * bounded I/O pool.
 *
 * <p>This class is the page table (every sequence's pages per layer, pins, the sliding window) and the fast tier
 * (its recency order, reservations, recycled blocks); where a page goes when it leaves the fast tier and how it
 * comes back is {@link KvSpiller}'s job, and the running totals are {@link KvCounters}.
 *
 * <p>Concurrency: one lock guards the page tables, tier state and counters; decoding and disk reads of a restore
 * run outside it, with the page marked as restoring so that others wait on the same future.
 */
public final class PagedKvStore implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(PagedKvStore.class.getName());
    private static final int PREFETCH_QUEUE = 16;
    private static final int RECYCLED_BLOCKS = 4;
    private static final String STORE_PREFIX = "store-";

    private final KvOptions options;
    private final MemoryLedger fastLedger;
    private final MemoryLedger hostLedger;
    private final Evictor fastEvictor = new FastEvictor();
    private final Evictor hostEvictor = new HostEvictor();
    private final Path dir;
    /** Removed on close, by a shutdown hook on SIGTERM, or by the next store's sweep after a kill -9. */
    private final OwnedTempDir spillDir;
    private final ReentrantLock lock = new ReentrantLock();
    /** Fast-tier pages, least recently used first. */
    private final LruOrder<KvPage> fastOrder = new LruOrder<>();
    private final LinkedHashSet<KvPage> restoring = new LinkedHashSet<>();
    private final LinkedHashSet<PagedKvSequence> sequences = new LinkedHashSet<>();
    private final BlockRecycler recycler = new BlockRecycler(RECYCLED_BLOCKS);
    private final ThreadPoolExecutor io;
    private final KvCounters counters = new KvCounters();
    private final KvSpiller spiller;
    private long nextId;
    private boolean closed;

    private PagedKvStore(KvOptions options, MemoryLedger fastLedger, MemoryLedger hostLedger) {
        this.options = options;
        this.fastLedger = fastLedger;
        this.hostLedger = hostLedger;
        try {
            // spill files of stores whose process died (kill -9, a crash) are removed here, at the next start
            OwnedTempDir.sweep(options.spillRoot(), STORE_PREFIX);
            this.spillDir = OwnedTempDir.create(options.spillRoot(), STORE_PREFIX);
            this.dir = spillDir.path();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create KV spill directory under " + options.spillRoot() + ": "
                    + e.getMessage(), e);
        }
        this.spiller = new KvSpiller(options, hostLedger, counters);
        this.io = new ThreadPoolExecutor(options.ioThreads(), options.ioThreads(), 30, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(PREFETCH_QUEUE), r -> {
                    Thread t = new Thread(r, "strata-kv-prefetch");
                    t.setDaemon(true);
                    return t;
                }, new ThreadPoolExecutor.DiscardPolicy());
        this.io.allowCoreThreadTimeOut(true);
        fastLedger.registerEvictor(Pool.KV, fastEvictor);
        hostLedger.registerEvictor(Pool.KV, hostEvictor);
    }

    /** A store with ledgers of its own, sized by the budgets in {@code options}. */
    public static PagedKvStore create(KvOptions options) {
        return new PagedKvStore(options, new MemoryLedger("kv-device", options.fastBudgetBytes()),
                new MemoryLedger("kv-host", options.hostBudgetBytes()));
    }

    /**
     * A store that reserves its pages in the {@link Pool#KV} pool of the runtime's ledgers: raw pages in
     * {@code fastLedger} (the device tier, or the host when there is no device), encoded spilled pages in
     * {@code hostLedger}. Cap the KV pool with {@link MemoryLedger#limitPool}; the budgets in {@code options} are
     * then not used. The store registers itself as the KV evictor of both ledgers, so other pools can make it spill.
     */
    public static PagedKvStore create(KvOptions options, MemoryLedger fastLedger, MemoryLedger hostLedger) {
        return new PagedKvStore(options, fastLedger, hostLedger);
    }

    /** A new empty sequence of {@code layers} layers with {@code kvDim} key (and value) floats per position. */
    public PagedKvSequence newSequence(int kvDim, int layers) {
        if (kvDim < 1 || layers < 1) {
            throw new IllegalArgumentException("kvDim and layers must be >= 1");
        }
        lock.lock();
        try {
            checkStoreOpen();
            long id = nextId++;
            PagedKvSequence seq = new PagedKvSequence(this, id, kvDim, layers, dir.resolve("seq-" + id + ".kvspill"));
            sequences.add(seq);
            return seq;
        } finally {
            lock.unlock();
        }
    }

    public KvOptions options() {
        return options;
    }

    /** The ledger the raw (fast-tier) pages are reserved in, pool {@link Pool#KV}. */
    public MemoryLedger fastLedger() {
        return fastLedger;
    }

    /** The ledger the spilled host-memory records are reserved in, pool {@link Pool#KV}. */
    public MemoryLedger hostLedger() {
        return hostLedger;
    }

    /** This store's own spill directory (removed on close). */
    public Path spillDirectory() {
        return dir;
    }

    int tokensPerPage() {
        return options.tokensPerPage();
    }

    private long pageBytes(PagedKvSequence seq) {
        return 2L * options.tokensPerPage() * seq.kvDim() * Float.BYTES;
    }

    private long valuesOffset(PagedKvSequence seq) {
        return (long) options.tokensPerPage() * seq.kvDim() * Float.BYTES;
    }

    int length(PagedKvSequence seq, int layer) {
        lock.lock();
        try {
            return seq.lengths[layer];
        } finally {
            lock.unlock();
        }
    }

    void append(PagedKvSequence seq, int layer, float[] key, float[] value) {
        lock.lock();
        try {
            checkOpen(seq);
            int t = options.tokensPerPage();
            int len = seq.lengths[layer];
            List<KvPage> list = seq.pages.get(layer);
            if (len / t == list.size()) {
                KvPage fresh = new KvPage(seq, layer, list.size());
                installFast(fresh, acquireFast(pageBytes(seq), true));
                list.add(fresh);
            }
            KvPage page = list.get(len / t);
            if (!page.inFast()) {
                throw new IllegalStateException("window page " + page + " is not in the fast tier");
            }
            long row = (long) (len % t) * seq.kvDim() * Float.BYTES;
            MemorySegment.copy(key, 0, page.fast, ValueLayout.JAVA_FLOAT, row, seq.kvDim());
            MemorySegment.copy(value, 0, page.fast, ValueLayout.JAVA_FLOAT, valuesOffset(seq) + row, seq.kvDim());
            page.tokens++;
            seq.lengths[layer] = len + 1;
            touch(page);
        } finally {
            lock.unlock();
        }
    }

    KvPageView pin(PagedKvSequence seq, int layer, int index) {
        long stallStart = 0;
        lock.lock();
        try {
            while (true) {
                checkOpen(seq);
                List<KvPage> list = seq.pages.get(layer);
                if (index < 0 || index >= list.size()) {
                    throw new IndexOutOfBoundsException("layer " + layer + " has " + list.size() + " pages, not page "
                            + index);
                }
                KvPage page = list.get(index);
                if (page.inFast()) {
                    if (stallStart != 0) {
                        counters.restoreStallNanos += System.nanoTime() - stallStart;
                    } else if (page.prefetched) {
                        counters.prefetchHits++;
                    }
                    page.prefetched = false;
                    page.pins++;
                    touch(page);
                    int n = page.tokens * seq.kvDim() * Float.BYTES;
                    PinnedPage view = new PinnedPage(this, page, page.tokens, page.fast.asSlice(0, n),
                            page.fast.asSlice(valuesOffset(seq), n));
                    if (index + 1 < list.size()) {
                        schedulePrefetch(list.get(index + 1));
                    }
                    return view;
                }
                if (stallStart == 0) {
                    stallStart = System.nanoTime();
                }
                CompletableFuture<Void> inFlight = page.restoring;
                if (inFlight != null) {
                    awaitUnlocked(inFlight);
                    continue;
                }
                Restore r = beginRestore(page, true);
                if (r != null) {
                    lock.unlock();
                    try {
                        finishRestore(r);
                    } finally {
                        lock.lock();
                    }
                }
            }
        } finally {
            lock.unlock();
        }
    }

    void unpin(KvPage page) {
        lock.lock();
        try {
            if (page.pins > 0) {
                page.pins--;
            }
        } finally {
            lock.unlock();
        }
    }

    /** Frees every page of {@code seq} in every tier and deletes its spill file. */
    void free(PagedKvSequence seq) {
        lock.lock();
        try {
            if (seq.closed) {
                return;
            }
            seq.closed = true;
            List<CompletableFuture<Void>> inFlight = new ArrayList<>();
            for (KvPage p : restoring) {
                if (p.seq == seq) {
                    inFlight.add(p.restoring);
                }
            }
            for (CompletableFuture<Void> f : inFlight) {
                awaitUnlocked(f);
            }
            for (List<KvPage> layer : seq.pages) {
                for (KvPage p : layer) {
                    if (p.inFast()) {
                        takeFast(p).free();
                    }
                    spiller.free(p);
                }
                layer.clear();
            }
            sequences.remove(seq);
            recycler.drain();
            seq.closeSpill();
        } finally {
            lock.unlock();
        }
    }

    /** Telemetry snapshot. */
    public KvStats stats() {
        lock.lock();
        try {
            long host = 0;
            long disk = 0;
            for (PagedKvSequence s : sequences) {
                for (List<KvPage> layer : s.pages) {
                    for (KvPage p : layer) {
                        if (!p.inFast()) {
                            if (p.host != null) {
                                host++;
                            } else if (p.onDisk()) {
                                disk++;
                            }
                        }
                    }
                }
            }
            return counters.snapshot(fastOrder.size(), host, disk, fastLedger.used(Pool.KV),
                    hostLedger.used(Pool.KV));
        } finally {
            lock.unlock();
        }
    }

    /** Frees every sequence, stops the prefetch pool and removes the spill directory. */
    @Override
    public void close() {
        List<PagedKvSequence> open;
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            open = new ArrayList<>(sequences);
        } finally {
            lock.unlock();
        }
        for (PagedKvSequence s : open) {
            free(s);
        }
        lock.lock();
        try {
            recycler.drain();
        } finally {
            lock.unlock();
        }
        fastLedger.unregisterEvictor(Pool.KV, fastEvictor);
        hostLedger.unregisterEvictor(Pool.KV, hostEvictor);
        io.shutdown();
        try {
            io.awaitTermination(1, TimeUnit.MINUTES);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        spillDir.close();
    }

    // ---- fast tier -------------------------------------------------------------------------------------------

    private void installFast(KvPage page, PageBlock block) {
        page.block = block;
        page.fast = block.segment();
        fastOrder.add(page);
    }

    private void touch(KvPage page) {
        fastOrder.touch(page);
    }

    /**
     * A reserved block for a page of {@code bytes}: a recycled one, or a new reservation, evicting cold pages to
     * make room. With {@code mayWait}, waits for in-flight restores to land when nothing is evictable; without,
     * gives up (returns null) instead.
     */
    private PageBlock acquireFast(long bytes, boolean mayWait) {
        while (true) {
            PageBlock recycled = recycler.take(bytes);
            if (recycled != null) {
                return recycled;
            }
            Reservation r = fastLedger.tryReserve(Pool.KV, bytes);
            if (r != null) {
                return PageBlock.allocate(r);
            }
            KvPage victim = coldestEvictable();
            if (victim != null) {
                evictFast(victim);
                continue;
            }
            if (!recycler.isEmpty()) {
                recycler.drain(); // blocks of another page size: give their bytes back and retry
                continue;
            }
            if (!mayWait) {
                return null;
            }
            if (!restoring.isEmpty()) {
                awaitUnlocked(restoring.getFirst().restoring);
                continue;
            }
            throw new KvBudgetExceededException("KV fast tier (" + fastLedger.tier() + " ledger, KV pool limit "
                    + fastLedger.poolLimit(Pool.KV) + " bytes) is full (" + fastLedger.used(Pool.KV)
                    + " bytes reserved, " + fastOrder.size() + " pages all pinned or inside the "
                    + options.windowTokens() + "-token window); cannot place another " + bytes + "-byte page");
        }
    }

    /**
     * The page to spill next. Attention reads a layer's pages in order, token after token: in such cyclic scans
     * the page just read is the one needed furthest in the future, while LRU evicts exactly the page needed next
     * and misses on every read. So with scan eviction the most recently read and released page goes first (a page
     * restored by prefetch and not yet read is kept); otherwise, or when only those remain, the least recently
     * used goes.
     */
    private KvPage coldestEvictable() {
        if (options.scanEviction()) {
            for (KvPage p : fastOrder.newestFirst()) {
                if (p.pins == 0 && !p.prefetched && !inWindow(p)) {
                    return p;
                }
            }
        }
        for (KvPage p : fastOrder) {
            if (p.pins == 0 && !inWindow(p)) {
                return p;
            }
        }
        return null;
    }

    private boolean inWindow(KvPage p) {
        long end = (long) (p.index + 1) * options.tokensPerPage();
        return end > (long) p.seq.lengths[p.layer] - options.windowTokens();
    }

    /** Moves {@code v} out of the fast tier (encoding it first unless a copy exists) and recycles its block. */
    private void evictFast(KvPage v) {
        if (v.host == null && !v.onDisk()) {
            spiller.spill(v, valuesOffset(v.seq));
        }
        recycler.give(takeFast(v));
    }

    /** Detaches the fast block from {@code p}; the caller frees or recycles it. */
    private PageBlock takeFast(KvPage p) {
        fastOrder.remove(p);
        PageBlock b = p.block;
        p.block = null;
        p.fast = null;
        p.prefetched = false;
        return b;
    }

    // ---- restore and prefetch --------------------------------------------------------------------------------

    /** A restore in progress: the page, its fast reservation, and the host record copy if it came from host. */
    private record Restore(KvPage page, PageBlock block, byte[] hostRecord, boolean prefetch,
                           CompletableFuture<Void> done) {
    }

    /** Under the lock: reserves room and marks the page restoring; null when the caller must re-check. */
    private Restore beginRestore(KvPage page, boolean caller) {
        PageBlock block = acquireFast(pageBytes(page.seq), caller);
        if (block == null) {
            return null;
        }
        if (page.inFast() || page.restoring != null || page.seq.closed || page.seq.failure != null) {
            recycler.give(block); // the state changed while we waited for room
            return null;
        }
        page.restoring = new CompletableFuture<>();
        restoring.add(page);
        // host records are immutable arrays: reading one outside the lock is safe even if it is demoted meanwhile
        return new Restore(page, block, page.host, !caller, page.restoring);
    }

    /** Outside the lock: reads, verifies and decodes the page, then installs it (or records the failure). */
    private void finishRestore(Restore r) {
        KvPage page = r.page();
        PagedKvSequence seq = page.seq;
        String source = r.hostRecord() != null ? "host copy of KV sequence " + seq.id() : seq.spillPath().toString();
        try {
            spiller.decodeInto(page, r.hostRecord(), r.block().segment(), valuesOffset(seq), source);
        } catch (IOException | RuntimeException e) {
            lock.lock();
            try {
                recycler.give(r.block());
                page.restoring = null;
                restoring.remove(page);
                if (seq.failure == null) {
                    seq.failure = new KvSpillException("KV sequence " + seq.id() + ": cannot restore layer "
                            + page.layer + " page " + page.index + " from " + source + ": " + e.getMessage(), e);
                }
            } finally {
                lock.unlock();
            }
            r.done().completeExceptionally(e);
            return;
        }
        lock.lock();
        try {
            installFast(page, r.block());
            page.restoring = null;
            restoring.remove(page);
            page.prefetched = r.prefetch();
            spiller.restored(page, r.hostRecord() != null);
        } finally {
            lock.unlock();
        }
        r.done().complete(null);
    }

    private void schedulePrefetch(KvPage page) {
        if (page.inFast() || page.restoring != null || closed) {
            return;
        }
        try {
            io.execute(() -> prefetch(page));
        } catch (RejectedExecutionException e) {
            // prefetch is a hint: a full queue or a closing store just means the reader restores it itself
        }
    }

    /**
     * Waits until every prefetch queued so far has run (tests; exact with one I/O thread, where tasks run in
     * queue order).
     */
    void awaitQueuedPrefetches() throws InterruptedException, java.util.concurrent.ExecutionException {
        java.util.concurrent.FutureTask<Void> marker = new java.util.concurrent.FutureTask<>(() -> null);
        io.getQueue().put(marker);
        if (io.getPoolSize() == 0) {
            io.prestartCoreThread();
        }
        marker.get();
    }

    /**
     * A prefetch is a hint: when making room fails (the spill file system is full, say), nothing changed and the
     * reader restores the page itself, meeting the same error on its own thread as one clear exception; nothing
     * escapes to the pool thread's uncaught-exception handler (which would print a stack trace).
     */
    private void prefetch(KvPage page) {
        try {
            Restore r;
            lock.lock();
            try {
                if (page.seq.closed || page.seq.failure != null || page.inFast() || page.restoring != null) {
                    return;
                }
                r = beginRestore(page, false);
            } finally {
                lock.unlock();
            }
            if (r != null) {
                finishRestore(r);
            }
        } catch (RuntimeException e) {
            LOG.log(Level.FINE, "KV prefetch of " + page + " gave up", e);
        }
    }

    // ---- ledger evictors: other pools may ask the KV cache to give memory back ----------------------------

    /** Spills cold, unpinned pages out of the window to make room in the fast ledger. */
    private final class FastEvictor implements Evictor {
        @Override
        public long evict(long bytes) {
            lock.lock();
            try {
                long freed = recycler.drain();
                KvPage victim;
                while (freed < bytes && (victim = coldestEvictable()) != null) {
                    evictFast(victim);
                    freed += recycler.drain();
                }
                return freed;
            } finally {
                lock.unlock();
            }
        }

        @Override
        public long pinnedBytes() {
            lock.lock();
            try {
                long pinned = 0;
                for (KvPage p : fastOrder) {
                    if (p.pins > 0 || inWindow(p)) {
                        pinned += pageBytes(p.seq);
                    }
                }
                return pinned;
            } finally {
                lock.unlock();
            }
        }
    }

    /** Moves host records to disk to make room in the host ledger. */
    private final class HostEvictor implements Evictor {
        @Override
        public long evict(long bytes) {
            lock.lock();
            try {
                return spiller.demote(bytes);
            } finally {
                lock.unlock();
            }
        }

        @Override
        public long pinnedBytes() {
            return 0;
        }
    }

    // ---- helpers ---------------------------------------------------------------------------------------------

    /** Waits for {@code f} with the lock released; failures are handled by whoever owns the sequence. */
    private void awaitUnlocked(CompletableFuture<Void> f) {
        lock.unlock();
        try {
            f.join();
        } catch (CompletionException e) {
            // recorded as the sequence's failure by finishRestore
        } finally {
            lock.lock();
        }
    }

    private void checkOpen(PagedKvSequence seq) {
        if (seq.closed) {
            throw new IllegalStateException("KV sequence " + seq.id() + " is closed");
        }
        if (seq.failure != null) {
            throw seq.failure;
        }
    }

    private void checkStoreOpen() {
        if (closed) {
            throw new IllegalStateException("KV store " + dir + " is closed");
        }
    }
}
