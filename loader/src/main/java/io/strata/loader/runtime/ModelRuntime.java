package io.strata.loader.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.core.manifest.Manifest;
import io.strata.core.memory.MemoryLedger;
import io.strata.core.model.ExpertId;
import io.strata.core.model.Tier;
import io.strata.core.telemetry.TelemetrySnapshot;
import io.strata.core.weights.PeerTier;
import io.strata.core.weights.TensorView;
import io.strata.core.weights.WeightSource;
import io.strata.loader.cache.ExpertHandle;
import io.strata.loader.cache.TierCache;
import io.strata.loader.source.ReadQueue;
import io.strata.storage.model.ConvertedModel;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.LongAdder;

/**
 * The tiered runtime: what inference code calls. Experts are paged device ← host ← disk cache ← origin/peer
 * under hard budgets (one {@link MemoryLedger} per tier), pinned while a handle is open, and prefetched ahead of
 * compute; dense tensors are loaded once into the compute tier. Implements {@link WeightSource} for the decoder.
 * The pieces: {@link TierStack} (the tiers, caches and fetch path, built from the options), {@link TensorLocator}
 * (where the manifest puts each tensor and expert) and {@link RoutingMemory} (the router weights fed to the cache
 * policy); this class is the public face that opens them and answers the decoder.
 *
 * <pre>{@code
 * try (ModelRuntime rt = ModelRuntime.open(modelDir, RuntimeOptions.builder().hostBudget(Sizes.parse("4GiB")).build());
 *      ExpertHandle h = rt.expert(3, 5, Tier.HOST)) {
 *     TensorView gate = h.tensor(ExpertProjection.GATE);
 * }
 * }</pre>
 */
public final class ModelRuntime implements WeightSource {
    private final String manifestHash;
    private final ConvertedModel origin;
    private final boolean ownsOrigin;
    private final RuntimeOptions options;
    private final TensorLocator locator;
    private final TierStack stack;
    private final RoutingMemory routing;
    private volatile boolean closed;

    private ModelRuntime(Manifest manifest, String manifestHash, ConvertedModel origin, boolean ownsOrigin,
                         PeerTier peer, RuntimeOptions o) {
        this.manifestHash = manifestHash;
        this.origin = origin;
        this.ownsOrigin = ownsOrigin;
        this.options = o;
        this.locator = new TensorLocator(manifest);
        this.stack = new TierStack(locator, origin == null ? null : origin.reader(), peer, o);
        this.routing = new RoutingMemory(locator.layerCount(), locator.numExperts());
    }

    /**
     * Opens a converted model directory, or a GGUF file in place (see {@code GgufManifest}: each expert is three
     * range reads out of the fused expert tensors; the file has no hashes, so its bytes are read unverified).
     */
    public static ModelRuntime open(Path modelDir, RuntimeOptions options) {
        ConvertedModel m = ConvertedModel.open(modelDir);
        try {
            return new ModelRuntime(m.manifest(), m.manifestHash(), m, true, null, options);
        } catch (RuntimeException | Error e) {
            m.close();
            throw e;
        }
    }

    /** Runs over an already opened model (the caller keeps ownership); {@code peer} may be null. */
    public static ModelRuntime open(ConvertedModel model, PeerTier peer, RuntimeOptions options) {
        return new ModelRuntime(model.manifest(), model.manifestHash(), model, false, peer, options);
    }

    /** Runs with no local model: bytes come from the disk cache or from peers. */
    public static ModelRuntime open(Manifest manifest, String manifestHash, PeerTier peer, RuntimeOptions options) {
        if (peer == null) {
            throw new IllegalArgumentException("without a model directory a peer tier is required");
        }
        return new ModelRuntime(manifest, manifestHash, null, false, peer, options);
    }

    public Manifest manifest() {
        return locator.manifest();
    }

    public String manifestHash() {
        return manifestHash;
    }

    public RuntimeOptions options() {
        return options;
    }

    /** What the device tier is ("simulated device, 1 GiB", or the GPU), or empty without one. */
    public Optional<String> deviceDescription() {
        return stack.deviceDescription();
    }

    /** The tier compute reads experts from: DEVICE when a device budget is set, else HOST. */
    public Tier computeTier() {
        return stack.computeTier();
    }

    /** The ledger of {@code tier} (DEVICE, HOST or DISK), e.g. for the KV cache to reserve its pages in. */
    public MemoryLedger ledger(Tier tier) {
        MemoryLedger l = stack.ledger(tier);
        if (l == null) {
            throw new IllegalArgumentException("this runtime has no " + tier + " tier");
        }
        return l;
    }

    /** Pins expert ({@code layer}, {@code expert}) in the compute tier, loading it as needed. */
    @Override
    public ExpertHandle expert(int layer, int expert) {
        return expert(layer, expert, computeTier());
    }

    /** Pins an expert in a given tier (DEVICE or HOST). */
    public ExpertHandle expert(int layer, int expert, Tier tier) {
        ensureOpen();
        TierCache cache = stack.cache(tier);
        if (cache == null) {
            throw new IllegalArgumentException("experts can be pinned in DEVICE or HOST memory; this runtime has no "
                    + tier + " expert cache");
        }
        return ExpertHandle.open(cache, locator.expert(new ExpertId(layer, expert)), routing.weight(layer, expert));
    }

    @Override
    public void prefetch(int layer, int[] experts) {
        if (stack.prefetcher() != null && !closed) {
            stack.prefetcher().hint(layer, experts);
        }
    }

    @Override
    public void observeRouting(int layer, int[] experts) {
        countNeeded(layer, experts);
        if (stack.prefetcher() != null && !closed) {
            stack.prefetcher().observe(layer, experts);
        }
    }

    /** Also remembers the gate weights, so the expert requests that follow feed them to the cache policy. */
    @Override
    public void observeRouting(int layer, int[] experts, float[] weights) {
        routing.observe(layer, experts, weights);
        observeRouting(layer, experts);
    }

    private final LongAdder neededBytes = new LongAdder();
    private int neededLayer = -1; // guarded by this: the layer whose visit neededSeen describes
    private final BitSet neededSeen = new BitSet(); // guarded by this

    /**
     * Counts the bytes of routed experts not resident in the host tier when their layer's routing is known: what
     * any prefetcher or policy had to read for this step (a correct prefetch still in flight counts: its bytes
     * cross the disk too). Each expert counts once per visit of its layer (a batch routes many positions).
     */
    private synchronized void countNeeded(int layer, int[] experts) {
        TierCache host = stack.cache(Tier.HOST);
        if (host == null || closed) {
            return;
        }
        if (layer != neededLayer) {
            neededLayer = layer;
            neededSeen.clear();
        }
        for (int e : experts) {
            if (!neededSeen.get(e)) {
                neededSeen.set(e);
                ExpertId id = new ExpertId(layer, e);
                if (!host.contains(id)) {
                    neededBytes.add(locator.expertBytes(id));
                }
            }
        }
    }

    /**
     * Bytes of routed experts that were not resident in host memory when their layer's routing became known,
     * summed over every layer visit so far: the bytes a decode must read whatever its prefetcher does (the
     * I/O bound is raw bandwidth over these per token). Compare {@code misses}, which a correct prefetch lowers
     * although its bytes were read all the same.
     */
    public long neededBytes() {
        return neededBytes.sum();
    }

    /**
     * Answers from the compute tier: a routed expert already resident first, else one nobody is reading (its pin
     * reads it now), else waits for the first of those being read.
     */
    @Override
    public int awaitReady(int layer, int[] experts, int from, int to) {
        if (!options.arrivalOrder() || to - from <= 1 || closed) {
            return from;
        }
        TierCache cache = stack.cache(computeTier());
        CompletableFuture<?>[] loading = new CompletableFuture<?>[to - from];
        int unread = -1;
        int n = 0;
        for (int i = from; i < to; i++) {
            CompletableFuture<?> f = cache.whenResident(new ExpertId(layer, experts[i]));
            if (f == null) {
                unread = unread < 0 ? i : unread;
            } else if (f.isDone()) {
                return i; // resident (or its load failed: its pin reports or reloads)
            } else {
                loading[i - from] = f;
                n++;
            }
        }
        if (unread >= 0) {
            return unread;
        }
        if (n == 0) {
            return from;
        }
        CompletableFuture.anyOf(Arrays.stream(loading)
                .filter(Objects::nonNull).toArray(CompletableFuture[]::new))
                .exceptionally(x -> null).join();
        for (int i = from; i < to; i++) {
            if (loading[i - from] != null && loading[i - from].isDone()) {
                return i;
            }
        }
        return from;
    }

    /** The queue of reads from the local model directory (null without one): for benchmarks and tests. */
    public ReadQueue readQueue() {
        return stack.readQueue();
    }

    /** Waits for queued prefetches to finish (benchmarks, tests). */
    public void drainPrefetch() throws InterruptedException {
        if (stack.prefetcher() != null) {
            stack.prefetcher().drain();
        }
    }

    @Override
    public JsonNode config() {
        return locator.manifest().config();
    }

    @Override
    public boolean hasTensor(String name) {
        return locator.hasTensor(name);
    }

    /** A dense (unsliced) tensor, loaded into the compute tier on first use and kept until close. */
    @Override
    public TensorView dense(String name) {
        ensureOpen();
        return stack.resident(name, locator.dense(name));
    }

    /**
     * The part of {@code name} that TP rank {@code tpRank} of {@code tpSize} loads, reading only that rank's
     * bytes, as {@link io.strata.storage.model.TensorSlices} resolves it: the manifest's own slice when the tensor
     * was converted with {@code tpSize} slices, the whole tensor when it is replicated, else a contiguous cut of
     * the stored rows (for a column-major tensor the stored rows are the logical input dimension).
     */
    public TensorView tensorSlice(String name, int tpRank, int tpSize) {
        ensureOpen();
        if (tpSize < 1) {
            throw new IllegalArgumentException("tensor '" + name + "': TP rank " + tpRank + " of " + tpSize
                    + " is not a valid rank");
        }
        return stack.resident(name + "#tp" + tpRank + "/" + tpSize, locator.slice(name, tpRank, tpSize));
    }

    /**
     * Wall time during which expert reads into {@code tier} (DEVICE or HOST) were in flight, overlapping reads
     * counted once: bytes paged in / this = page-in bandwidth.
     */
    public long pageInBusyNanos(Tier tier) {
        TierCache c = stack.cache(tier);
        return c == null ? 0 : c.busyNanos();
    }

    /** Every tier's counters plus prefetch figures, now. */
    public TelemetrySnapshot telemetry() {
        return stack.telemetry();
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("model runtime is closed");
        }
    }

    /**
     * Stops prefetching and frees everything. Experts still pinned keep their memory until their handles close.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        stack.close();
        if (ownsOrigin) {
            origin.close();
        }
    }
}
