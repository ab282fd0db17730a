package io.strata.core.hash;

import java.lang.foreign.MemorySegment;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;

/**
 * BLAKE3 (32-byte output) over byte arrays and memory segments: the one place Strata hashes content. Large inputs
 * are hashed with SIMD across chunks and across threads by subtree, on a shared {@link ParallelBlake3} whose
 * parallelism defaults to the available processors ({@code -Dstrata.blake3.parallelism=N} or
 * {@link #setParallelism}). Results never depend on the parallelism or the vector width.
 */
public final class Blake3 {
    public static final int OUT_LEN = Blake3Constants.OUT_LEN;
    public static final int KEY_LEN = Blake3Constants.KEY_LEN;

    private static volatile ParallelBlake3 shared = new ParallelBlake3(defaultParallelism());

    private Blake3() {
    }

    private static int defaultParallelism() {
        String p = System.getProperty("strata.blake3.parallelism");
        return p != null ? Integer.parseInt(p.trim()) : Runtime.getRuntime().availableProcessors();
    }

    /** The shared engine the static methods use. */
    public static ParallelBlake3 engine() {
        return shared;
    }

    public static int parallelism() {
        return shared.parallelism();
    }

    /**
     * Replaces the shared engine with one of {@code parallelism} threads. The old pool is not shut down (hashes may be
     * running on it); its idle daemon threads simply time out.
     */
    public static synchronized void setParallelism(int parallelism) {
        if (parallelism != shared.parallelism()) {
            shared = new ParallelBlake3(parallelism);
        }
    }

    /**
     * Starts (if not yet started) the background warm-up of the SIMD path and returns its outcome: true once hashing
     * runs vector code. Until then hashing uses the scalar path, so waiting is optional; benchmarks and long jobs that
     * want steady-state speed from the first byte may wait on it.
     */
    public static CompletableFuture<Boolean> simdWarmUp() {
        return Compressors.warmUp();
    }

    public static byte[] hash(byte[] data) {
        return hash(MemorySegment.ofArray(data));
    }

    public static byte[] hash(MemorySegment data) {
        return shared.hash(data);
    }

    public static byte[] keyedHash(byte[] key, byte[] data) {
        return keyedHash(key, MemorySegment.ofArray(data));
    }

    public static byte[] keyedHash(byte[] key, MemorySegment data) {
        return shared.keyedHash(key, data);
    }

    public static byte[] deriveKey(String context, byte[] material) {
        return shared.deriveKey(context, MemorySegment.ofArray(material));
    }

    /** One plain hash per consecutive {@code pieceSize}-byte piece (the manifest's per-chunk hashes). */
    public static byte[][] chunkHashes(MemorySegment data, long pieceSize) {
        return shared.chunkHashes(data, pieceSize);
    }

    /** See {@link ParallelBlake3#subtreeChainingValue}. */
    public static byte[] subtreeChainingValue(MemorySegment subtree, long firstChunk) {
        return shared.subtreeChainingValue(subtree, firstChunk);
    }

    /**
     * The hash of a whole input from the chaining values of its consecutive equal-size power-of-two subtrees
     * (the last may be smaller), at least two; see {@link #subtreeChainingValue}.
     */
    public static byte[] rootFromSubtrees(java.util.List<byte[]> chainingValues) {
        return Blake3Tree.rootFromSubtrees(chainingValues);
    }

    public static Blake3Hasher newHasher() {
        return shared.newHasher();
    }

    public static Blake3Hasher newKeyedHasher(byte[] key) {
        return shared.newKeyedHasher(key);
    }

    public static String hex(byte[] hash) {
        return HexFormat.of().formatHex(hash);
    }

    public static String hashHex(MemorySegment data) {
        return hex(hash(data));
    }

    public static String hashHex(byte[] data) {
        return hex(hash(data));
    }
}
