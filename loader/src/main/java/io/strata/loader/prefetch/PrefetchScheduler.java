package io.strata.loader.prefetch;

import io.strata.core.model.ExpertId;
import io.strata.core.telemetry.PrefetchCounters;
import io.strata.loader.cache.TierCache;
import io.strata.loader.source.ReadQueue;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Loads experts that upcoming layers are predicted to need into the compute tier on a small bounded I/O pool,
 * so that compute does not wait for them. Predictions come from the decoder's speculative gating (layer L+1's
 * router applied to the current hidden state, passed to {@link #hint}) and from per-layer routing frequency (for
 * layer L+2 when layer L's routing is observed). A hint never blocks: when the queue is full it is dropped. A
 * prefetch never evicts a pinned, loading, unused-prefetched or currently-needed expert (those of the layer
 * being computed and of hinted layers); a wrong guess costs bandwidth only.
 *
 * <p>When a layer's routing is observed, its own experts that are not resident are started at once on a second
 * pool of the same size (the readers), ahead of the decoder's pins, which take them one at a time: so the reads
 * of a layer's misses are in flight together, overlapping each other and the compute of the experts already
 * there, instead of one read after another. Queued guesses never delay them: with {@code cancelWrong}, the
 * tier cache gives guesses' reads a lower priority than reads compute waits for (a guess routing then chooses is
 * promoted), and once a layer's real routing is known its guesses that routing did not choose are dropped: those
 * still queued here are removed before they start, and those already loading have their unstarted reads
 * cancelled (see {@link TierCache#cancelPrefetch}), so a wrong guess no longer costs the disk all its bytes.
 */
public final class PrefetchScheduler implements AutoCloseable {
    private final TierCache target;
    private final PrefetchCounters counters;
    private final RoutingFrequency frequency;
    private final int layers;
    private final int topK;
    private final boolean byFrequency;
    private final ThreadPoolExecutor pool;
    private final ThreadPoolExecutor readers;
    private final Set<ExpertId> inFlight = ConcurrentHashMap.newKeySet();
    private final boolean cancelWrong;
    /** Guesses queued on the prefetch pool and not started, by expert. */
    private final Map<ExpertId, Runnable> queuedGuesses = new ConcurrentHashMap<>();
    private final int[][] needed; // per layer: the latest observed or hinted experts
    private volatile int currentLayer = -1;
    private final Object idle = new Object();
    private int pending; // guarded by idle

    public PrefetchScheduler(TierCache target, PrefetchCounters counters, int layers, int experts, int topK,
                             int ioThreads, boolean byFrequency) {
        this(target, counters, layers, experts, topK, ioThreads, byFrequency, true);
    }

    public PrefetchScheduler(TierCache target, PrefetchCounters counters, int layers, int experts, int topK,
                             int ioThreads, boolean byFrequency, boolean cancelWrong) {
        this.cancelWrong = cancelWrong;
        this.target = target;
        this.counters = counters;
        this.frequency = new RoutingFrequency(layers, experts);
        this.layers = Math.max(1, layers);
        this.topK = topK;
        this.byFrequency = byFrequency;
        this.needed = new int[this.layers][];
        AtomicInteger n = new AtomicInteger();
        this.pool = newPool(ioThreads, Math.max(16, 4 * topK * ioThreads), "strata-prefetch-", n);
        this.readers = newPool(ioThreads, Math.max(16, 4 * topK), "strata-reader-", n);
    }

    private ThreadPoolExecutor newPool(int threads, int queue, String name, AtomicInteger n) {
        ThreadPoolExecutor p = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(queue), r -> {
                    Thread t = new Thread(r, name + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                }, (r, ex) -> {
                    counters.skipped();
                    throw new RejectedExecutionException("prefetch queue full");
                });
        p.allowCoreThreadTimeOut(true);
        return p;
    }

    /** The decoder expects {@code layer} to need {@code experts} (most likely first). */
    public void hint(int layer, int[] experts) {
        if (layer < 0 || layer >= layers || pool.isShutdown()) {
            return;
        }
        synchronized (needed) {
            needed[layer] = experts.clone();
        }
        for (int e : experts) {
            submit(new ExpertId(layer, e), pool, false);
        }
    }

    /**
     * {@code layer} routed to {@code experts}: starts reading those not resident (the decoder pins them next),
     * feeds the frequency predictor and looks two layers ahead.
     */
    public void observe(int layer, int[] experts) {
        currentLayer = layer;
        frequency.observe(layer, experts);
        synchronized (needed) {
            if (layer >= 0 && layer < layers) {
                needed[layer] = experts.clone();
            }
        }
        if (layer >= 0 && layer < layers && !readers.isShutdown()) {
            if (cancelWrong) {
                dropWrongGuesses(layer, experts);
            }
            for (int e : experts) {
                ExpertId id = new ExpertId(layer, e);
                if (cancelWrong && inFlight.contains(id)) {
                    Runnable queued = queuedGuesses.remove(id);
                    if (queued != null && pool.remove(queued)) { // a right guess not started: read it now
                        finished(id);
                    } else {
                        target.promote(id); // a right guess being read: its reads go first now
                    }
                }
                submit(id, readers, true);
            }
        }
        if (byFrequency && layers > 2) {
            int ahead = (layer + 2) % layers;
            for (int e : frequency.top(ahead, topK)) {
                submit(new ExpertId(ahead, e), pool, false);
            }
        }
    }

    /** {@code layer}'s routing chose {@code experts}: its other guesses are dropped or cancelled. */
    private void dropWrongGuesses(int layer, int[] experts) {
        for (ExpertId id : List.copyOf(inFlight)) {
            if (id.layer() != layer || contains(experts, id.expert())) {
                continue;
            }
            Runnable queued = queuedGuesses.remove(id);
            if (queued != null && pool.remove(queued)) {
                counters.cancelled();
                finished(id);
            } else if (target.cancelPrefetch(id)) {
                counters.cancelled();
            }
        }
    }

    private static boolean contains(int[] a, int v) {
        for (int x : a) {
            if (x == v) {
                return true;
            }
        }
        return false;
    }

    private void finished(ExpertId id) {
        inFlight.remove(id);
        changePending(-1);
    }

    private void submit(ExpertId id, ThreadPoolExecutor on, boolean chosen) {
        if (target.contains(id) || !inFlight.add(id)) {
            return;
        }
        changePending(1);
        Runnable[] self = new Runnable[1];
        Runnable task = () -> {
                if (!chosen) {
                    queuedGuesses.remove(id, self[0]);
                }
                try {
                    boolean loaded = chosen ? target.loadAhead(id, this::isNeeded) : target.prefetch(id, this::isNeeded);
                    if (!loaded && !chosen) { // issued loads are counted by the cache
                        counters.skipped();
                    }
                } catch (RuntimeException e) { // a failed guess must not hurt compute; a demand load reports real errors
                    if (!(e.getCause() instanceof ReadQueue.ReadCancelledException)) {
                        counters.skipped(); // (a cancelled one was counted when cancelled)
                    }
                } finally {
                    finished(id);
                }
            };
        self[0] = task;
        if (!chosen) {
            queuedGuesses.put(id, task);
        }
        try {
            on.execute(task);
        } catch (RuntimeException e) { // queue full or shut down: drop the hint
            queuedGuesses.remove(id, task);
            finished(id);
        }
    }

    private void changePending(int delta) {
        synchronized (idle) {
            pending += delta;
            if (pending == 0) {
                idle.notifyAll();
            }
        }
    }

    /** Experts of the layer being computed and of the next two layers' latest hints are needed: keep them. */
    boolean isNeeded(ExpertId id) {
        int cur = currentLayer;
        int dist = cur < 0 ? 0 : Math.floorMod(id.layer() - cur, layers);
        if (dist > 2) {
            return false;
        }
        synchronized (needed) {
            int[] n = needed[id.layer() % layers];
            if (n != null) {
                for (int e : n) {
                    if (e == id.expert()) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    public RoutingFrequency frequency() {
        return frequency;
    }

    /** Waits until every queued prefetch has finished (for tests and benchmarks). */
    public void drain() throws InterruptedException {
        synchronized (idle) {
            while (pending > 0) {
                idle.wait();
            }
        }
    }

    @Override
    public void close() {
        pool.shutdownNow();
        readers.shutdownNow();
        try {
            pool.awaitTermination(30, TimeUnit.SECONDS);
            readers.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
