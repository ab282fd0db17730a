package io.strata.core.hash;

import java.util.concurrent.CompletableFuture;

/**
 * Picks the fastest {@link ChunkCompressor} this JVM can run: the Vector API one (behind a JIT warm-up gate) when the
 * incubator module is present and the preferred vector holds at least four ints, the scalar one otherwise.
 * {@code -Dstrata.blake3.simd=false} forces the scalar path.
 */
final class Compressors {
    private static final ChunkCompressor BEST = select();

    private Compressors() {
    }

    static ChunkCompressor best() {
        return BEST;
    }

    /** Completes with true once {@link #best()} runs vector code, false if it never will (see WarmingCompressor). */
    static CompletableFuture<Boolean> warmUp() {
        return BEST instanceof WarmingCompressor w ? w.warmUp() : CompletableFuture.completedFuture(false);
    }

    static ChunkCompressor scalar() {
        return ScalarCompressor.INSTANCE;
    }

    /** The vector compressor, or null where the Vector API is unavailable or too narrow to help. */
    static ChunkCompressor vectorOrNull() {
        try {
            if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
                return null;
            }
            ChunkCompressor v = VectorCompressor.INSTANCE;
            return v.lanes() >= 4 ? v : null;
        } catch (LinkageError | RuntimeException e) {
            return null;
        }
    }

    private static ChunkCompressor select() {
        if ("false".equalsIgnoreCase(System.getProperty("strata.blake3.simd", "auto"))) {
            return scalar();
        }
        ChunkCompressor v = vectorOrNull();
        return v != null ? new WarmingCompressor(v) : scalar();
    }
}
