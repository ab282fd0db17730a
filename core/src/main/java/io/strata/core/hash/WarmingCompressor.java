package io.strata.core.hash;

import static io.strata.core.hash.Blake3Constants.CHUNK_LEN;
import static io.strata.core.hash.Blake3Constants.IV;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Runs the scalar path until the vector path is proven fast. Vector API code is only fast once C2 has compiled it;
 * interpreted or C1-compiled it boxes every vector and runs ~50x slower than scalar Java, for seconds. So the first use
 * starts a daemon thread that exercises the vector path on dummy data and compares it with the scalar one; once the
 * vector path wins clearly three times in a row, all callers switch to it. If it never wins (no C2, no SIMD
 * intrinsics) within a minute, scalar stays.
 */
final class WarmingCompressor implements ChunkCompressor {
    private static final long GIVE_UP_NANOS = TimeUnit.SECONDS.toNanos(60);
    /** Vector must be at least this many times faster per node than scalar to count as compiled. */
    private static final double MIN_SPEEDUP = 2.0;

    private final ChunkCompressor vector;
    private final ChunkCompressor scalar = ScalarCompressor.INSTANCE;
    private final AtomicBoolean started = new AtomicBoolean();
    private final CompletableFuture<Boolean> warmedUp = new CompletableFuture<>();
    private volatile boolean vectorReady;

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
        return vectorReady ? vector.description() : "scalar (" + vector.description() + " warming up)";
    }

    private void runWarmUp() {
        try {
            int lanes = vector.lanes();
            byte[] bytes = new byte[lanes * CHUNK_LEN];
            for (int i = 0; i < bytes.length; i++) {
                bytes[i] = (byte) (i * 31 + (i >>> 8));
            }
            MemorySegment data = MemorySegment.ofArray(bytes);
            int[] cvs = new int[16 * lanes];
            long start = System.nanoTime();
            int wins = 0;
            while (wins < 3 && System.nanoTime() - start < GIVE_UP_NANOS) {
                long t0 = System.nanoTime();
                for (int i = 0; i < 8; i++) {
                    vector.chunks(data, 0, lanes, i, IV, 0, cvs, 0);
                    vector.parents(cvs, 0, lanes / 2, IV, 0, cvs, 0);
                }
                long t1 = System.nanoTime();
                for (int i = 0; i < 8; i++) {
                    scalar.chunks(data, 0, lanes, i, IV, 0, cvs, 0);
                    scalar.parents(cvs, 0, lanes / 2, IV, 0, cvs, 0);
                }
                long t2 = System.nanoTime();
                wins = (t2 - t1) >= MIN_SPEEDUP * (t1 - t0) ? wins + 1 : 0;
            }
            vectorReady = wins >= 3;
            warmedUp.complete(vectorReady);
        } catch (Throwable t) {
            warmedUp.complete(false);
        }
    }
}
