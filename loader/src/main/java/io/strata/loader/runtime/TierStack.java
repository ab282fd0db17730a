package io.strata.loader.runtime;

import io.strata.core.manifest.Manifest;
import io.strata.core.memory.MemoryLedger;
import io.strata.core.model.ExpertId;
import io.strata.core.model.Tier;
import io.strata.core.telemetry.PrefetchCounters;
import io.strata.core.telemetry.TelemetrySnapshot;
import io.strata.core.telemetry.TierCounters;
import io.strata.core.telemetry.TierStats;
import io.strata.core.weights.PeerTier;
import io.strata.core.weights.TensorView;
import io.strata.loader.cache.ExpertHandle;
import io.strata.loader.cache.ExpertLayout;
import io.strata.loader.cache.TierCache;
import io.strata.loader.disk.DiskCache;
import io.strata.loader.policy.Policies;
import io.strata.loader.prefetch.PrefetchScheduler;
import io.strata.loader.source.ByteFetcher;
import io.strata.loader.tier.DeviceTiers;
import io.strata.loader.tier.HostMemory;
import io.strata.loader.tier.TierMemory;
import io.strata.nativeaccess.cuda.CudaDriver;
import io.strata.storage.model.ShardReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import java.util.logging.Logger;

/**
 * The tier hierarchy of one runtime, built in one place from the options: a ledger per tier, the device tier (a
 * GPU or the simulated device) when a device budget is set, host memory, the optional disk cache, the byte
 * fetcher below them (disk cache, origin, peers), an expert cache per memory tier, the resident dense tensors in
 * the compute tier and the prefetch scheduler. The compute tier is the device when there is one, else the host.
 * Owns everything it builds; {@link #close()} frees it in reverse order.
 */
final class TierStack implements AutoCloseable {
    // logged under the public class: that is the name users configure logging for
    private static final Logger LOG = Logger.getLogger(ModelRuntime.class.getName());

    private final Map<Tier, TierCounters> counters = new EnumMap<>(Tier.class);
    private final PrefetchCounters prefetchCounters = new PrefetchCounters();
    private final TensorLocator locator;
    private final MemoryLedger hostLedger;
    private final HostMemory hostMemory = new HostMemory();
    private final DeviceTiers.DeviceTier device;
    private final DiskCache disk;
    private final ByteFetcher fetcher;
    private final TierCache hostCache;
    private final TierCache deviceCache;
    private final TierCache computeCache;
    private final ResidentTensors dense;
    private final PrefetchScheduler prefetcher;

    TierStack(TensorLocator locator, ShardReader origin, PeerTier peer, RuntimeOptions o) {
        this.locator = locator;
        Manifest manifest = locator.manifest();
        for (Tier t : Tier.values()) {
            counters.put(t, new TierCounters(t));
        }
        this.disk = openDiskCache(o, counters.get(Tier.DISK));
        this.fetcher = new ByteFetcher(manifest, origin, peer, disk, counters, o.trustLocal(), o.readMode(),
                o.cacheLocal());
        this.hostLedger = new MemoryLedger("host", o.hostBudget(), o.hostReserve());
        this.hostCache = new TierCache(Tier.HOST, hostLedger, hostMemory,
                Policies.create(o.policy(), o.hostBudget() - o.hostReserve(), locator::expertBytes),
                counters.get(Tier.HOST), prefetchCounters, locator::expertBytes, (id, dst) -> {
                    ExpertLayout l = locator.expert(id);
                    return fetcher.fetchBlock("expert " + id, l.ranges(), l.contentHash(), dst);
                });
        Optional<DeviceTiers.DeviceTier> dt = o.deviceBudget() == 0 ? Optional.empty() : o.simulatedDevice()
                ? DeviceTiers.open(o.deviceBudget(), locator.maxExpertBytes(),
                new CudaDriver.Availability(Optional.empty(), "simulated device requested"))
                : DeviceTiers.open(o.deviceBudget(), locator.maxExpertBytes());
        if (dt.isPresent()) {
            this.device = dt.get();
            this.deviceCache = new TierCache(Tier.DEVICE, device.newLedger(), device.memory(),
                    Policies.create(o.policy(), device.usableBytes(), locator::expertBytes),
                    counters.get(Tier.DEVICE), prefetchCounters, locator::expertBytes,
                    device.filler(this::fillDeviceFromHost));
            this.computeCache = deviceCache;
        } else {
            this.device = null;
            this.deviceCache = null;
            this.computeCache = hostCache;
        }
        this.dense = new ResidentTensors(computeCache.ledger(), computeMemory());
        this.prefetcher = o.prefetch() && locator.isMoe()
                ? new PrefetchScheduler(computeCache, prefetchCounters, locator.layerCount(), locator.numExperts(),
                locator.expertsPerToken(), o.ioThreads(), o.frequencyPrefetch(), o.prioritizeReads())
                : null;
        computeCache.guessesYield(o.prioritizeReads());
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

    private Tier fillDeviceFromHost(ExpertId id, MemorySegment dst) {
        try (ExpertHandle h = ExpertHandle.open(hostCache, locator.expert(id), Double.NaN)) {
            MemorySegment.copy(h.bytes(), 0, dst, 0, dst.byteSize());
            counters.get(Tier.HOST).bytesOut(dst.byteSize());
        }
        return Tier.HOST;
    }

    private TierMemory computeMemory() {
        return device != null ? device.memory() : hostMemory;
    }

    Tier computeTier() {
        return computeCache.tier();
    }

    /** The expert cache of DEVICE or HOST, or null when this stack has none there. */
    TierCache cache(Tier tier) {
        return switch (tier) {
            case DEVICE -> deviceCache;
            case HOST -> hostCache;
            default -> null;
        };
    }

    /** The ledger of DEVICE, HOST or DISK, or null when this stack has no such tier. */
    MemoryLedger ledger(Tier tier) {
        return switch (tier) {
            case DEVICE -> deviceCache == null ? null : deviceCache.ledger(); // the one the cache reserves in
            case HOST -> hostLedger;
            case DISK -> disk == null ? null : disk.ledger();
            default -> null;
        };
    }

    Optional<String> deviceDescription() {
        return device == null ? Optional.empty() : Optional.of(device.description());
    }

    /** The local reads' queue, or null without a model directory. */
    io.strata.loader.source.ReadQueue readQueue() {
        return fetcher.localReads() == null ? null : fetcher.localReads().queue();
    }

    PrefetchScheduler prefetcher() {
        return prefetcher;
    }

    /** A dense load, read once into the compute tier (reserved in its WEIGHTS pool) and kept until close. */
    TensorView resident(String key, TensorLocator.Location at) {
        return dense.get(key, at.bytes(), dst -> fetcher.read(at.ranges(), dst), at::view);
    }

    /** Every tier's counters plus prefetch figures, now. */
    TelemetrySnapshot telemetry() {
        Map<Tier, TierStats> m = new EnumMap<>(Tier.class);
        for (Tier t : new Tier[]{Tier.DEVICE, Tier.HOST, Tier.DISK}) {
            MemoryLedger l = ledger(t);
            if (l != null) {
                m.put(t, counters.get(t).snapshot(l.highWater(), l.budget(), l.used()));
            }
        }
        Tier bottom = fetcher.hasOrigin() ? Tier.ORIGIN : Tier.PEER;
        m.put(bottom, counters.get(bottom).snapshot(0, -1, 0));
        return new TelemetrySnapshot(m, prefetchCounters.snapshot(), m.get(computeTier()).stallNanos());
    }

    /** Stops prefetching, then frees the dense tensors, the caches, the memories and the disk cache. */
    @Override
    public void close() {
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
        fetcher.close();
        if (disk != null) {
            disk.close();
        }
    }
}
