package io.strata.loader.tier;

import io.strata.core.memory.MemoryLedger;
import io.strata.core.util.Sizes;
import io.strata.nativeaccess.cuda.CudaDevice;
import io.strata.nativeaccess.cuda.CudaDriver;
import io.strata.loader.cache.Filler;
import java.util.Optional;

/**
 * Chooses the device tier's memory: VRAM on GPU 0 when the CUDA driver is present ({@link CudaDeviceMemory}),
 * else the {@link SimulatedDevice}, behind the same {@link TierMemory} API, budgets and ledger. The absence of a
 * GPU is logged once, as one line, by {@link CudaDriver#load()}.
 *
 * <pre>{@code
 * try (DeviceTiers.DeviceTier t = DeviceTiers.open(DeviceTiers.AUTO, expertBytes).orElseThrow()) {
 *     MemoryLedger ledger = t.newLedger();
 *     TierCache cache = new TierCache(Tier.DEVICE, ledger, t.memory(), policy, counters, pf, sizeOf,
 *             t.filler(fillFromHost));
 * }
 * }</pre>
 */
public final class DeviceTiers {
    /** Requested budget meaning "all free VRAM minus the reserve", and no device tier without a GPU. */
    public static final long AUTO = -1;
    /** Staging slots for uploads: the default prefetch I/O threads (2) plus the demand path. */
    public static final int UPLOAD_SLOTS = 3;

    private static final System.Logger LOG = System.getLogger(DeviceTiers.class.getName());

    private DeviceTiers() {
    }

    /**
     * One device tier: its memory, its ledger's budget and reserve, and (on a GPU) the upload path.
     *
     * @param budgetBytes  the ledger budget: on a GPU the VRAM free at start (capped by the request plus reserve)
     * @param reserveBytes left to the driver, other CUDA users and fragmentation; never handed out
     */
    public record DeviceTier(TierMemory memory, long budgetBytes, long reserveBytes, CudaUploads uploads,
                             String description) implements AutoCloseable {

        /** A new ledger for this tier's budget and reserve; each call makes another, so keep the one the cache uses. */
        public MemoryLedger newLedger() {
            return new MemoryLedger("device", budgetBytes, reserveBytes);
        }

        public long usableBytes() {
            return budgetBytes - reserveBytes;
        }

        public boolean isCuda() {
            return memory instanceof CudaDeviceMemory;
        }

        /** The filler for device blocks: through pinned staging and a copy stream on a GPU, else {@code below}. */
        public Filler filler(Filler below) {
            return uploads == null ? below : uploads.filler(below);
        }

        @Override
        public void close() {
            if (uploads != null) {
                uploads.close();
            }
            memory.close();
        }
    }

    /**
     * Opens the device tier.
     *
     * @param requestedBytes usable bytes wanted (capped by free VRAM minus the reserve on a GPU; exactly this on
     *                       the simulated device), {@link #AUTO} for all free VRAM, or 0 for no device tier
     * @param maxBlockBytes  the largest block uploads are staged for (an expert's bytes)
     * @return empty for 0, and for {@link #AUTO} without a GPU
     */
    public static Optional<DeviceTier> open(long requestedBytes, long maxBlockBytes) {
        return open(requestedBytes, maxBlockBytes, CudaDriver.availability());
    }

    /** As {@link #open(long, long)}, with the CUDA availability given (tests force the simulated device). */
    public static Optional<DeviceTier> open(long requestedBytes, long maxBlockBytes,
                                            CudaDriver.Availability cuda) {
        if (requestedBytes < AUTO) {
            throw new IllegalArgumentException("device budget must be >= 0 or AUTO: " + requestedBytes);
        }
        if (requestedBytes == 0) {
            return Optional.empty();
        }
        if (cuda.isPresent()) {
            Optional<DeviceTier> tier = openCuda(cuda.driver().orElseThrow(), requestedBytes, maxBlockBytes);
            if (tier.isPresent()) {
                return tier;
            }
        }
        if (requestedBytes == AUTO) {
            return Optional.empty();
        }
        return Optional.of(new DeviceTier(new SimulatedDevice(requestedBytes), requestedBytes, 0, null,
                "simulated device, " + Sizes.format(requestedBytes)));
    }

    private static Optional<DeviceTier> openCuda(CudaDriver driver, long requestedBytes, long maxBlockBytes) {
        CudaDevice device = CudaDevice.open(driver, 0);
        try {
            if (!device.supportsManagedMemory()) {
                LOG.log(System.Logger.Level.WARNING, device + " cannot allocate managed memory here; "
                        + "using the simulated device");
                device.close();
                return Optional.empty();
            }
            long reserve = device.defaultReserveBytes();
            long free = device.memInfo().freeBytes();
            long budget = requestedBytes == AUTO ? free : Math.min(free, requestedBytes + reserve);
            if (budget <= reserve) {
                LOG.log(System.Logger.Level.WARNING, device + " has " + Sizes.format(free) + " free, not more than "
                        + "the " + Sizes.format(reserve) + " reserve; using the simulated device");
                device.close();
                return Optional.empty();
            }
            CudaDeviceMemory memory = new CudaDeviceMemory(device, budget - reserve, true);
            CudaUploads uploads;
            try {
                uploads = new CudaUploads(memory, UPLOAD_SLOTS, Math.max(1, maxBlockBytes));
            } catch (RuntimeException e) {
                memory.close();
                throw e;
            }
            String description = device + ", " + Sizes.format(budget - reserve) + " usable of "
                    + Sizes.format(free) + " free (reserve " + Sizes.format(reserve) + ")";
            LOG.log(System.Logger.Level.INFO, "CUDA device tier on " + description);
            return Optional.of(new DeviceTier(memory, budget, reserve, uploads, description));
        } catch (RuntimeException e) {
            device.close();
            throw e;
        }
    }
}
