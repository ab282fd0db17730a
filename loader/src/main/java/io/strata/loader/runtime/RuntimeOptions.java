package io.strata.loader.runtime;

import io.strata.loader.policy.Policies;
import io.strata.core.memory.DefaultBudgets;
import io.strata.loader.disk.DiskCache;
import io.strata.loader.runtime.ReadMode;
import java.nio.file.Path;

/**
 * How a {@link ModelRuntime} is set up. Budgets in bytes; a device budget of 0 means no device tier (compute
 * reads from host memory), {@link #DEVICE_AUTO} all free VRAM of GPU 0 (no device tier without a GPU). The device
 * tier is VRAM when a CUDA driver is present, else a simulated device; {@code simulatedDevice} forces the latter.
 * {@code cacheDir} null means no disk cache. Bytes read from the model directory and the disk cache are verified
 * against the manifest's BLAKE3 hashes (once per chunk per process) unless {@code trustLocal} says the local files
 * are vouched for ({@code --trust-local}); never skipped by default. {@code readMode} says how experts are read
 * from a local model directory ({@link ReadMode#DIRECT} by default); the disk cache holds only bytes that are not
 * on local disk already (peers' bytes) unless {@code cacheLocal} asks it to copy the model directory's experts too
 * (a model directory on slow or network storage). {@code prioritizeReads}: reads of experts compute waits for go
 * ahead of prefetch guesses, and guesses the layer's real routing proved wrong are cancelled before they reach the
 * disk (default on). {@code arrivalOrder}: a layer's routed experts are computed in the order their bytes become
 * resident rather than in routing order (default on; results are identical either way).
 */
public record RuntimeOptions(long deviceBudget, long hostBudget, long hostReserve, Path cacheDir, long diskBudget,
                             String policy, boolean prefetch, boolean frequencyPrefetch, int ioThreads,
                             boolean simulatedDevice, boolean trustLocal, ReadMode readMode, boolean cacheLocal,
                             boolean prioritizeReads, boolean arrivalOrder) {
    public static final long DEVICE_AUTO = -1;

    public RuntimeOptions {
        if (deviceBudget < DEVICE_AUTO || hostBudget < 0 || hostReserve < 0 || diskBudget < 0) {
            throw new IllegalArgumentException("budgets must not be negative");
        }
        if (hostReserve > hostBudget) {
            throw new IllegalArgumentException("host reserve " + hostReserve + " is larger than the host budget "
                    + hostBudget);
        }
        if (readMode == null) {
            throw new IllegalArgumentException("read mode must be given");
        }
        if (ioThreads < 1) {
            throw new IllegalArgumentException("need at least one I/O thread, got " + ioThreads);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    public static final class Builder {
        private long deviceBudget;
        private long hostBudget = DefaultBudgets.hostBudget();
        private long hostReserve = DefaultBudgets.hostReserve(hostBudget);
        private Path cacheDir = DiskCache.defaultDir();
        private long diskBudget = 64L << 30;
        private String policy = Policies.DEFAULT;
        private boolean prefetch = true;
        // off: on the real Mixtral traces (LRU cache of 64 / 128 of 256 experts) prefetching layer L+2's most
        // frequent experts read 2.3x / 1.45x the experts per token for 3 fewer demand misses, and in `bench paging`
        // it was slower in every paired round; the decoder's speculative gating (layer L+1) stays on
        private boolean frequencyPrefetch = false;
        private int ioThreads = 2;
        private boolean simulatedDevice;
        private boolean trustLocal;
        private ReadMode readMode = ReadMode.DIRECT;
        private boolean cacheLocal;
        private boolean prioritizeReads = true;
        private boolean arrivalOrder = true;

        public Builder deviceBudget(long v) {
            deviceBudget = v;
            return this;
        }

        /** The host budget with no reserve (tests, explicit CLI sizes). */
        public Builder hostBudget(long v) {
            hostBudget = v;
            hostReserve = 0;
            return this;
        }

        public Builder hostReserve(long v) {
            hostReserve = v;
            return this;
        }

        public Builder cacheDir(Path v) {
            cacheDir = v;
            return this;
        }

        public Builder noDiskCache() {
            cacheDir = null;
            return this;
        }

        public Builder diskBudget(long v) {
            diskBudget = v;
            return this;
        }

        public Builder policy(String v) {
            policy = v;
            return this;
        }

        public Builder prefetch(boolean v) {
            prefetch = v;
            return this;
        }

        public Builder frequencyPrefetch(boolean v) {
            frequencyPrefetch = v;
            return this;
        }

        public Builder ioThreads(int v) {
            ioThreads = v;
            return this;
        }

        /** Use the simulated device even where a GPU is present (tests, CPU-only benchmarks). */
        public Builder simulatedDevice(boolean v) {
            simulatedDevice = v;
            return this;
        }

        /**
         * Skip verifying bytes from the model directory and the disk cache against the manifest (the user vouches
         * for the local files). Bytes from peers are always verified.
         */
        public Builder trustLocal(boolean v) {
            trustLocal = v;
            return this;
        }

        /** How experts are read from a local model directory. */
        public Builder readMode(ReadMode v) {
            readMode = v;
            return this;
        }

        /** Copy experts read from the model directory into the disk cache too (slow or remote model storage). */
        public Builder cacheLocal(boolean v) {
            cacheLocal = v;
            return this;
        }

        /** Demand reads before prefetch reads, and wrong queued prefetches cancelled (default on). */
        public Builder prioritizeReads(boolean v) {
            prioritizeReads = v;
            return this;
        }

        /** Compute a layer's experts as each becomes resident (default on); off: in routing order. */
        public Builder arrivalOrder(boolean v) {
            arrivalOrder = v;
            return this;
        }

        public RuntimeOptions build() {
            return new RuntimeOptions(deviceBudget, hostBudget, hostReserve, cacheDir, diskBudget, policy, prefetch,
                    frequencyPrefetch, ioThreads, simulatedDevice, trustLocal, readMode, cacheLocal, prioritizeReads,
                    arrivalOrder);
        }
    }
}
