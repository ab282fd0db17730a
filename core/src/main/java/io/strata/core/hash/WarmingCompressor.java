package io.strata.core.hash;

import static io.strata.core.hash.Blake3Constants.CHUNK_LEN;
import static io.strata.core.hash.Blake3Constants.IV;

import io.strata.core.hash.SubtreeHasher.Top;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;

/**
 * Runs the scalar path until the vector path is proven fast. Vector API code is only fast once C2 has compiled it;
 * interpreted or C1-compiled it boxes every vector and runs ~50x slower than scalar Java, for seconds. So the first use
 * starts a daemon thread that exercises the vector path on dummy data and compares it with the scalar one; once the
 * vector path wins clearly three times in a row, all callers switch to it. If it never wins (no C2, no SIMD
 * intrinsics) within five minutes, scalar stays.
 */
final class WarmingCompressor implements ChunkCompressor {
    /** Generous: on an overloaded machine the JIT compiler thread itself may wait minutes for a core. */
    private static final long GIVE_UP_NANOS = TimeUnit.MINUTES.toNanos(5);
    /** Vector must be at least this many times faster per node than scalar to count as compiled. */
    private static final double MIN_SPEEDUP = 2.0;

    private static final boolean DEBUG = Boolean.getBoolean("strata.blake3.debug");

    private final ChunkCompressor vector;
    private final ChunkCompressor scalar = ScalarCompressor.INSTANCE;
    private final AtomicBoolean started = new AtomicBoolean();
    private final CompletableFuture<Boolean> warmedUp = new CompletableFuture<>();
    private volatile boolean vectorReady;
    private volatile String outcome = "warming up";

    WarmingCompressor(ChunkCompressor vector) {
        this.vector = vector;
    }

    /** Starts the warm-up if needed; completes with true once callers use the vector path, false if they never will. */
    CompletableFuture<Boolean> warmUp() {
        if (started.compareAndSet(false, true)) {
            Thread.ofPlatform().daemon().name("strata-blake3-warmup").start(this::runWarmUp);
        }
        return warmedUp;
    }

    private ChunkCompressor current() {
        if (vectorReady) {
            return vector;
        }
        warmUp();
        return scalar;
    }

    @Override
    public void chunks(MemorySegment src, long off, int n, long counter, int[] key, int flags, int[] out, int outOff) {
        current().chunks(src, off, n, counter, key, flags, out, outOff);
    }

    @Override
    public void parents(int[] in, int inOff, int n, int[] key, int flags, int[] out, int outOff) {
        current().parents(in, inOff, n, key, flags, out, outOff);
    }

    @Override
    public int lanes() {
        return vectorReady ? vector.lanes() : 1;
    }

    @Override
    public String description() {
        return vectorReady ? vector.description() : "scalar (" + vector.description() + " " + outcome + ")";
    }

    private void runWarmUp() {
        try {
            // A realistic workload: whole 64 KiB subtrees, as the hashing paths run them.
            byte[] bytes = new byte[64 * CHUNK_LEN];
            for (int i = 0; i < bytes.length; i++) {
                bytes[i] = (byte) (i * 31 + (i >>> 8));
            }
            MemorySegment data = MemorySegment.ofArray(bytes);
            int[] cv = new int[8];
            // CPU time, not wall time: on a busy machine a preempted round would otherwise look slow.
            ThreadMXBean mx = ManagementFactory.getThreadMXBean();
            boolean cpuClock = mx.isCurrentThreadCpuTimeSupported();
            LongSupplier clock = cpuClock ? mx::getCurrentThreadCpuTime : System::nanoTime;
            long start = System.nanoTime();
            int wins = 0;
            while (wins < 3 && System.nanoTime() - start < GIVE_UP_NANOS) {
                long t0 = clock.getAsLong();
                for (int i = 0; i < 4; i++) {
                    SubtreeHasher.subtree(vector, data, 0, data.byteSize(), 64L * i, IV, 0, Top.CHAINING_VALUE, cv, 0);
                }
                long t1 = clock.getAsLong();
                for (int i = 0; i < 4; i++) {
                    SubtreeHasher.subtree(scalar, data, 0, data.byteSize(), 64L * i, IV, 0, Top.CHAINING_VALUE, cv, 0);
                }
                long t2 = clock.getAsLong();
                wins = (t2 - t1) >= MIN_SPEEDUP * (t1 - t0) ? wins + 1 : 0;
                if (DEBUG) {
                    System.err.printf("warm-up %.1fs vector %d us scalar %d us wins %d%n",
                            (System.nanoTime() - start) / 1e9, (t1 - t0) / 1000, (t2 - t1) / 1000, wins);
                }
            }
            outcome = wins >= 3 ? "ready" : "never beat scalar";
            vectorReady = wins >= 3;
            warmedUp.complete(vectorReady);
        } catch (Throwable t) {
            outcome = "failed: " + t;
            warmedUp.complete(false);
        }
    }
}
