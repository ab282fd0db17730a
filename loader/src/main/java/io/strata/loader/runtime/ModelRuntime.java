package io.strata.loader.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.core.manifest.GroupInfo;
import io.strata.core.manifest.Manifest;
import io.strata.core.manifest.ManifestException;
import io.strata.core.manifest.TensorInfo;
import io.strata.core.memory.MemoryLedger;
import io.strata.core.model.ExpertId;
import io.strata.core.model.Tier;
import io.strata.core.telemetry.PrefetchCounters;
import io.strata.core.telemetry.TelemetrySnapshot;
import io.strata.core.telemetry.TierCounters;
import io.strata.core.telemetry.TierStats;
import io.strata.core.weights.TensorView;
import io.strata.core.weights.WeightSource;
import io.strata.loader.cache.ExpertHandle;
import io.strata.loader.cache.ExpertLayout;
import io.strata.loader.cache.TierCache;
import io.strata.loader.disk.DiskCache;
import io.strata.core.weights.PeerTier;
import io.strata.loader.policy.Policies;
import io.strata.loader.prefetch.PrefetchScheduler;
import io.strata.loader.source.ByteFetcher;
import io.strata.loader.tier.HostMemory;
import io.strata.nativeaccess.cuda.CudaDriver;
import io.strata.loader.tier.DeviceTiers;
import io.strata.loader.tier.TierMemory;
import io.strata.storage.model.ConvertedModel;
import io.strata.storage.model.TensorSlices;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The tiered runtime: what inference code calls. Experts are paged device ← host ← disk cache ← origin/peer
 * under hard budgets (one {@link MemoryLedger} per tier), pinned while a handle is open, and prefetched ahead of
 * compute; dense tensors are loaded once into the compute tier. Implements {@link WeightSource} for the decoder.
 *
 * <pre>{@code
 * try (ModelRuntime rt = ModelRuntime.open(modelDir, RuntimeOptions.builder().hostBudget(Sizes.parse("4GiB")).build());
 *      ExpertHandle h = rt.expert(3, 5, Tier.HOST)) {
 *     TensorView w1 = h.tensor("w1");
 * }
 * }</pre>
 */
public final class ModelRuntime implements WeightSource {
    private static final java.util.logging.Logger LOG = java.util.logging.Logger.getLogger(ModelRuntime.class.getName());
    private final Manifest manifest;
    private final String manifestHash;
    private final ConvertedModel origin;
    private final boolean ownsOrigin;
    private final RuntimeOptions options;
    private final Map<Tier, TierCounters> counters = new EnumMap<>(Tier.class);
    private final PrefetchCounters prefetchCounters = new PrefetchCounters();
    private final MemoryLedger hostLedger;
    private final MemoryLedger deviceLedger;
    private final HostMemory hostMemory = new HostMemory();
    private final DeviceTiers.DeviceTier device;
    private final DiskCache disk;
    private final ByteFetcher fetcher;
    private final TensorSlices slices;
    private final TierCache hostCache;
    private final TierCache deviceCache;
    private final TierCache computeCache;
    private final ResidentTensors dense;
    private final PrefetchScheduler prefetcher;
    private final Map<ExpertId, ExpertLayout> layouts = new ConcurrentHashMap<>();
    /** Per layer, the gate weight of each expert in the latest observed routing (NaN: not chosen). */
    private final float[][] lastRouting;
    private volatile boolean closed;

    private ModelRuntime(Manifest manifest, String manifestHash, ConvertedModel origin, boolean ownsOrigin,
                         PeerTier peer, RuntimeOptions o) {
        this.manifest = manifest;
        this.manifestHash = manifestHash;
        this.origin = origin;
        this.ownsOrigin = ownsOrigin;
        this.options = o;
        for (Tier t : Tier.values()) {
            counters.put(t, new TierCounters(t));
        }
        this.disk = openDiskCache(o, counters.get(Tier.DISK));
        this.fetcher = new ByteFetcher(manifest, origin == null ? null : origin.reader(), peer, disk, counters,
                o.trustLocal());
        this.slices = new TensorSlices(manifest, "manifest");
        this.hostLedger = new MemoryLedger("host", o.hostBudget(), o.hostReserve());
        this.hostCache = new TierCache(Tier.HOST, hostLedger, hostMemory,
                Policies.create(o.policy(), o.hostBudget() - o.hostReserve(), this::expertBytes),
                counters.get(Tier.HOST), prefetchCounters, this::expertBytes,
                (id, dst) -> fetcher.fetchGroup(id.groupName(), layout(id).group(), dst));
        long maxExpert = manifest.moeConfig() == null ? 1 : Math.max(1, manifest.moeConfig().expertBytes());
        Optional<DeviceTiers.DeviceTier> dt = o.deviceBudget() == 0 ? Optional.empty() : o.simulatedDevice()
                ? DeviceTiers.open(o.deviceBudget(), maxExpert,
                new CudaDriver.Availability(Optional.empty(), "simulated device requested"))
                : DeviceTiers.open(o.deviceBudget(), maxExpert);
        if (dt.isPresent()) {
            this.device = dt.get();
            this.deviceLedger = device.ledger();
            this.deviceCache = new TierCache(Tier.DEVICE, deviceLedger, device.memory(),
                    Policies.create(o.policy(), device.usableBytes(), this::expertBytes),
                    counters.get(Tier.DEVICE), prefetchCounters, this::expertBytes,
                    device.filler(this::fillDeviceFromHost));
            this.computeCache = deviceCache;
        } else {
            this.deviceLedger = null;
            this.device = null;
            this.deviceCache = null;
            this.computeCache = hostCache;
        }
        this.dense = new ResidentTensors(computeLedger(), computeMemory());
        int layers = manifest.moeConfig() == null ? 0 : layerCount();
        this.lastRouting = new float[layers][];
        int experts = manifest.moeConfig() == null ? 0 : manifest.moeConfig().numExperts();
        int topK = manifest.moeConfig() == null ? 1 : Math.max(1, manifest.moeConfig().numExpertsPerToken());
        this.prefetcher = o.prefetch() && manifest.isMoe()
                ? new PrefetchScheduler(computeCache, prefetchCounters, layers, experts, topK, o.ioThreads(),
                o.frequencyPrefetch())
                : null;
    }

    /**
     * The disk cache is optional: one that cannot be opened (a full or read-only file system, a file where its
     * directory should be) is left out with one warning, and the run reads from the model or the peers instead.
     */
    private static DiskCache openDiskCache(RuntimeOptions o, TierCounters c) {
        if (o.cacheDir() == null) {
            return null;
        }
        try {
            return new DiskCache(o.cacheDir(), o.diskBudget(), c, !o.trustLocal());
        } catch (IOException | UncheckedIOException e) {
            LOG.warning(() -> "cannot open the disk cache " + o.cacheDir() + " (" + e.getMessage()
                    + "); running without it");
            return null;
        }
    }

    /** Opens a converted model directory. */
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

    /**
     * Layer ids run up to the highest expert layer, whatever numMoeLayers says: with decoder_sparse_step or
     * mlp_only_layers (Qwen) some layers are dense, and arrays indexed by layer must still reach the last MoE one.
     */
    private int layerCount() {
        int max = 0;
        for (GroupInfo g : manifest.groups().values()) {
            if (g.isExpert()) {
                max = Math.max(max, g.layerIndex() + 1);
            }
        }
        JsonNode c = manifest.config();
        int configured = c == null ? 1 : c.path("num_hidden_layers").asInt(1);
        // arrays are sized by it: a layer holds at least one tensor, so no more layers than tensors are real
        if (configured > Math.max(1, manifest.tensors().size())) {
            throw new ManifestException("manifest: config.num_hidden_layers: " + configured + " layers, but the"
                    + " manifest lists only " + manifest.tensors().size() + " tensors");
        }
        return Math.max(max, configured);
    }

    private Tier fillDeviceFromHost(ExpertId id, MemorySegment dst) {
        try (ExpertHandle h = ExpertHandle.open(hostCache, layout(id), Double.NaN)) {
            MemorySegment.copy(h.bytes(), 0, dst, 0, dst.byteSize());
            counters.get(Tier.HOST).bytesOut(dst.byteSize());
        }
        return Tier.HOST;
    }

    private long expertBytes(ExpertId id) {
        return layout(id).bytes();
    }

    private ExpertLayout layout(ExpertId id) {
        return layouts.computeIfAbsent(id, k -> ExpertLayout.of(manifest, k));
    }

    private MemoryLedger computeLedger() {
        return deviceLedger != null ? deviceLedger : hostLedger;
    }

    private TierMemory computeMemory() {
        return device != null ? device.memory() : hostMemory;
    }

    public Manifest manifest() {
        return manifest;
    }

    public String manifestHash() {
        return manifestHash;
    }

    public RuntimeOptions options() {
        return options;
    }

    /** What the device tier is ("simulated device, 1 GiB", or the GPU), or empty without one. */
    public Optional<String> deviceDescription() {
        return device == null ? Optional.empty() : Optional.of(device.description());
    }

    /** The tier compute reads experts from: DEVICE when a device budget is set, else HOST. */
    public Tier computeTier() {
        return computeCache.tier();
    }

    /** The ledger of {@code tier} (DEVICE, HOST or DISK), e.g. for the KV cache to reserve its pages in. */
    public MemoryLedger ledger(Tier tier) {
        MemoryLedger l = switch (tier) {
            case DEVICE -> deviceLedger;
            case HOST -> hostLedger;
            case DISK -> disk == null ? null : disk.ledger();
            default -> null;
        };
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
        TierCache cache = switch (tier) {
            case DEVICE -> deviceCache;
            case HOST -> hostCache;
            default -> null;
        };
        if (cache == null) {
            throw new IllegalArgumentException("experts can be pinned in DEVICE or HOST memory; this runtime has no "
                    + tier + " expert cache");
        }
        return ExpertHandle.open(cache, layout(new ExpertId(layer, expert)), routedWeight(layer, expert));
    }

    /** The gate weight the router last gave ({@code layer}, {@code expert}), or NaN when it was not just chosen. */
    private double routedWeight(int layer, int expert) {
        float[] w = layer < lastRouting.length ? lastRouting[layer] : null;
        return w == null || expert >= w.length || Float.isNaN(w[expert]) ? Double.NaN : w[expert];
    }

    @Override
    public void prefetch(int layer, int[] experts) {
        if (prefetcher != null && !closed) {
            prefetcher.hint(layer, experts);
        }
    }

    @Override
    public void observeRouting(int layer, int[] experts) {
        if (prefetcher != null && !closed) {
            prefetcher.observe(layer, experts);
        }
    }

    /** Also remembers the gate weights, so the expert requests that follow feed them to the cache policy. */
    @Override
    public void observeRouting(int layer, int[] experts, float[] weights) {
        if (layer >= 0 && layer < lastRouting.length && manifest.isMoe()) {
            float[] w = new float[manifest.moeConfig().numExperts()];
            java.util.Arrays.fill(w, Float.NaN);
            for (int i = 0; i < experts.length && i < weights.length; i++) {
                if (experts[i] >= 0 && experts[i] < w.length) {
                    w[experts[i]] = weights[i];
                }
            }
            lastRouting[layer] = w;
        }
        observeRouting(layer, experts);
    }

    /** Waits for queued prefetches to finish (benchmarks, tests). */
    public void drainPrefetch() throws InterruptedException {
        if (prefetcher != null) {
            prefetcher.drain();
        }
    }

    @Override
    public JsonNode config() {
        return manifest.config();
    }

    @Override
    public boolean hasTensor(String name) {
        return manifest.tensors().containsKey(name);
    }

    /** A dense (unsliced) tensor, loaded into the compute tier on first use and kept until close. */
    @Override
    public TensorView dense(String name) {
        ensureOpen();
        TensorInfo t = manifest.tensor(name);
        long[] shape = t.logicalShape().stream().mapToLong(Long::longValue).toArray();
        return dense.get(name, t.size(), dst -> readTensor(name, t, dst),
                seg -> new TensorView(name, seg, t.dtype(), shape, t.layoutOrRow()));
    }

    /**
     * The part of {@code name} that TP rank {@code tpRank} of {@code tpSize} loads, reading only that rank's
     * bytes, as {@link TensorSlices} resolves it: the manifest's own slice when the tensor was converted with
     * {@code tpSize} slices, the whole tensor when it is replicated, else a contiguous cut of the stored rows (for
     * a column-major tensor the stored rows are the logical input dimension).
     */
    public TensorView tensorSlice(String name, int tpRank, int tpSize) {
        ensureOpen();
        if (tpSize < 1) {
            throw new IllegalArgumentException("tensor '" + name + "': TP rank " + tpRank + " of " + tpSize
                    + " is not a valid rank");
        }
        TensorSlices.Part p = slices.resolve(name, tpRank, tpSize);
        TensorInfo t = p.entry();
        String key = name + "#tp" + tpRank + "/" + tpSize;
        ResidentTensors.Reader read = p.isCut() ? dst -> fetcher.readRange(t.shard(), p.offset(), p.size(), dst)
                : dst -> readTensor(name, t, dst);
        return dense.get(key, p.size(), read,
                seg -> new TensorView(name, seg, t.dtype(), p.logicalShape(), t.layoutOrRow()));
    }

    private void readTensor(String name, TensorInfo t, MemorySegment dst) throws IOException {
        if (t.spans() == null) {
            fetcher.readRange(t.shard(), t.offset(), t.size(), dst);
            return;
        }
        long at = 0;
        for (var span : t.spans()) {
            fetcher.readRange(span.shardIndex(), span.offset(), span.size(), dst.asSlice(at, span.size()));
            at += span.size();
        }
    }

    /** Every tier's counters plus prefetch figures, now. */
    public TelemetrySnapshot telemetry() {
        Map<Tier, TierStats> m = new EnumMap<>(Tier.class);
        if (deviceLedger != null) {
            m.put(Tier.DEVICE, counters.get(Tier.DEVICE).snapshot(deviceLedger.highWater(), deviceLedger.budget(),
                    deviceLedger.used()));
        }
        m.put(Tier.HOST, counters.get(Tier.HOST).snapshot(hostLedger.highWater(), hostLedger.budget(),
                hostLedger.used()));
        if (disk != null) {
            m.put(Tier.DISK, counters.get(Tier.DISK).snapshot(disk.ledger().highWater(), disk.ledger().budget(),
                    disk.ledger().used()));
        }
        if (fetcher.hasOrigin()) {
            m.put(Tier.ORIGIN, counters.get(Tier.ORIGIN).snapshot(0, -1, 0));
        } else {
            m.put(Tier.PEER, counters.get(Tier.PEER).snapshot(0, -1, 0));
        }
        return new TelemetrySnapshot(m, prefetchCounters.snapshot(), m.get(computeTier()).stallNanos());
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
        if (prefetcher != null) {
            prefetcher.close();
        }
        dense.close();
        if (deviceCache != null) {
            deviceCache.close();
            device.close();
        }
        hostCache.close();
        hostMemory.close();
        if (disk != null) {
            disk.close();
        }
        if (ownsOrigin) {
            origin.close();
        }
    }
}
