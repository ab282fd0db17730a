package io.strata.core.hash;

import static io.strata.core.hash.Blake3Constants.CHUNK_LEN;
import static io.strata.core.hash.Blake3Constants.DERIVE_KEY_CONTEXT;
import static io.strata.core.hash.Blake3Constants.DERIVE_KEY_MATERIAL;
import static io.strata.core.hash.Blake3Constants.IV;
import static io.strata.core.hash.Blake3Constants.KEYED_HASH;

import io.strata.core.hash.SubtreeHasher.Top;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.RecursiveAction;

/**
 * A BLAKE3 hasher that spreads large inputs over a bounded fork/join pool: the input is cut into 128-chunk leaf
 * subtrees (128 KiB, aligned so each is a full node of BLAKE3's tree), leaves are hashed in parallel with SIMD, and
 * their chaining values are reduced to the root. Parallelism 1 hashes on the caller's thread only. Outputs are
 * identical whatever the parallelism or SIMD width.
 */
public final class ParallelBlake3 implements AutoCloseable {
    /** Chunks per leaf task: a power of two, so leaves are full subtrees; 128 KiB amortises a fork many times over. */
    static final int LEAF_CHUNKS = 128;
    static final long LEAF_BYTES = (long) LEAF_CHUNKS * CHUNK_LEN;

    /** Stands for "some other thread": segments it cannot access (confined ones) are hashed on the caller's thread. */
    private static final Thread OTHER_THREAD = Thread.ofPlatform().unstarted(() -> { });

    private final ChunkCompressor compressor;
    private final ForkJoinPool pool;
    private final boolean ownsPool;
    private final int parallelism;

    /** A hasher with its own pool of {@code parallelism} daemon threads (none when 1). */
    public ParallelBlake3(int parallelism) {
        this(parallelism, Compressors.best());
    }

    /** A hasher that forks onto a pool the caller owns (and closes). */
    public ParallelBlake3(ForkJoinPool pool) {
        this(pool, Compressors.best());
    }

    ParallelBlake3(int parallelism, ChunkCompressor compressor) {
        if (parallelism < 1) {
            throw new IllegalArgumentException("BLAKE3 parallelism must be >= 1, got " + parallelism);
        }
        this.compressor = compressor;
        this.parallelism = parallelism;
        this.pool = parallelism > 1 ? newPool(parallelism) : null;
        this.ownsPool = true;
    }

    ParallelBlake3(ForkJoinPool pool, ChunkCompressor compressor) {
        this.compressor = compressor;
        this.pool = pool;
        this.parallelism = pool.getParallelism();
        this.ownsPool = false;
    }

    private static ForkJoinPool newPool(int parallelism) {
        return new ForkJoinPool(parallelism, p -> {
            ForkJoinWorkerThread t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(p);
            t.setName("strata-blake3-" + t.getPoolIndex());
            t.setDaemon(true);
            return t;
        }, null, false);
    }

    public int parallelism() {
        return parallelism;
    }

    /** Which compression path runs, e.g. "vector-512bit-16lanes" or "scalar". */
    public String implementation() {
        return compressor.description();
    }

    /** The standard 32-byte BLAKE3 hash. */
    public byte[] hash(MemorySegment data) {
        return root(data, IV, 0);
    }

    /** BLAKE3 keyed with a 32-byte key (a MAC / PRF). */
    public byte[] keyedHash(byte[] key, MemorySegment data) {
        return root(data, Blake3Constants.keyWords(key), KEYED_HASH);
    }

    /** BLAKE3's key derivation mode: a 32-byte key for {@code material}, separated by a hard-coded context string. */
    public byte[] deriveKey(String context, MemorySegment material) {
        byte[] contextKey = root(MemorySegment.ofArray(context.getBytes(StandardCharsets.UTF_8)), IV, DERIVE_KEY_CONTEXT);
        return root(material, Blake3Constants.keyWords(contextKey), DERIVE_KEY_MATERIAL);
    }

    /**
     * The plain BLAKE3 hash of each consecutive {@code pieceSize}-byte piece of {@code data} (the last may be shorter),
     * pieces hashed in parallel. An empty input has no pieces.
     */
    public byte[][] chunkHashes(MemorySegment data, long pieceSize) {
        if (pieceSize <= 0) {
            throw new IllegalArgumentException("piece size must be positive, got " + pieceSize);
        }
        int n = Math.toIntExact((data.byteSize() + pieceSize - 1) / pieceSize);
        byte[][] out = new byte[n][];
        PieceTask task = new PieceTask(data, pieceSize, out, 0, n);
        if (pool == null || n < 2 || !data.isAccessibleBy(OTHER_THREAD)) {
            task.hashRange();
        } else {
            run(task);
        }
        return out;
    }

    /**
     * The chaining value of a subtree of the whole input's tree: {@code subtree} holds the bytes of consecutive chunks
     * starting at chunk index {@code firstChunk}. A node of the tree is either a full power-of-two run of chunks
     * aligned to its size, or the input's tail run aligned to the next power of two; anything else is rejected.
     * Combine with {@link Blake3Tree} to check a piece without the rest of the file (Bao-style).
     */
    public byte[] subtreeChainingValue(MemorySegment subtree, long firstChunk) {
        long len = subtree.byteSize();
        if (len == 0) {
            throw new IllegalArgumentException("an empty subtree has no chaining value");
        }
        long nChunks = (len + CHUNK_LEN - 1) / CHUNK_LEN;
        long span = Long.highestOneBit(nChunks) == nChunks ? nChunks : Long.highestOneBit(nChunks) << 1;
        if (firstChunk < 0 || firstChunk % span != 0) {
            throw new IllegalArgumentException("a subtree of " + nChunks + " chunks must start at a chunk index that is"
                    + " a multiple of " + span + ", got " + firstChunk);
        }
        int[] cv = new int[8];
        tree(subtree, 0, len, firstChunk, IV, 0, Top.CHAINING_VALUE, cv, 0);
        return Blake3Constants.wordsToBytes(cv, 0);
    }

    /** An incremental hasher whose large updates use this engine. */
    public Blake3Hasher newHasher() {
        return new Blake3Hasher(this, IV, 0);
    }

    public Blake3Hasher newKeyedHasher(byte[] key) {
        return new Blake3Hasher(this, Blake3Constants.keyWords(key), KEYED_HASH);
    }

    byte[] root(MemorySegment data, int[] key, int flags) {
        long len = data.byteSize();
        if (len <= CHUNK_LEN) {
            return SubtreeHasher.chunkOutput(data, 0, len, 0, key, flags).rootHash();
        }
        int[] out = new int[8];
        tree(data, 0, len, 0, key, flags, Top.ROOT, out, 0);
        return Blake3Constants.wordsToBytes(out, 0);
    }

    /** Hashes {@code src[off, off+len)}, first chunk index {@code counter}, to the requested top, in parallel if large. */
    void tree(MemorySegment src, long off, long len, long counter, int[] key, int flags, Top top, int[] out, int outOff) {
        if (len <= LEAF_BYTES) {
            SubtreeHasher.subtree(compressor, src, off, len, counter, key, flags, top, out, outOff);
            return;
        }
        int leaves = Math.toIntExact((len + LEAF_BYTES - 1) / LEAF_BYTES);
        int[] cvs = new int[8 * leaves];
        LeafTask task = new LeafTask(src, off, len, counter, key, flags, cvs, 0, leaves);
        if (pool == null || !src.isAccessibleBy(OTHER_THREAD)) {
            task.hashRange();
        } else {
            run(task);
        }
        SubtreeHasher.reduce(compressor, cvs, leaves, key, flags, top, out, outOff);
    }

    private void run(ForkJoinTask<?> task) {
        if (ForkJoinTask.getPool() == pool) {
            task.invoke();
        } else {
            pool.invoke(task);
        }
    }

    @Override
    public void close() {
        if (ownsPool && pool != null) {
            pool.shutdown();
        }
    }

    /** Leaves [lo, hi) of one tree, split in halves until one leaf per task. */
    private final class LeafTask extends RecursiveAction {
        private final MemorySegment src;
        private final long off;
        private final long len;
        private final long counter;
        private final int[] key;
        private final int flags;
        private final int[] cvs;
        private final int lo;
        private final int hi;

        LeafTask(MemorySegment src, long off, long len, long counter, int[] key, int flags, int[] cvs, int lo, int hi) {
            this.src = src;
            this.off = off;
            this.len = len;
            this.counter = counter;
            this.key = key;
            this.flags = flags;
            this.cvs = cvs;
            this.lo = lo;
            this.hi = hi;
        }

        @Override
        protected void compute() {
            if (hi - lo <= 1) {
                hashRange();
            } else {
                int mid = (lo + hi) >>> 1;
                invokeAll(new LeafTask(src, off, len, counter, key, flags, cvs, lo, mid),
                        new LeafTask(src, off, len, counter, key, flags, cvs, mid, hi));
            }
        }

        void hashRange() {
            for (int i = lo; i < hi; i++) {
                long start = i * LEAF_BYTES;
                SubtreeHasher.subtree(compressor, src, off + start, Math.min(LEAF_BYTES, len - start),
                        counter + (long) i * LEAF_CHUNKS, key, flags, Top.CHAINING_VALUE, cvs, 8 * i);
            }
        }
    }

    /** Pieces [lo, hi) of {@link #chunkHashes}; each piece may fork its own leaves in the same pool. */
    private final class PieceTask extends RecursiveAction {
        private final MemorySegment data;
        private final long pieceSize;
        private final byte[][] out;
        private final int lo;
        private final int hi;

        PieceTask(MemorySegment data, long pieceSize, byte[][] out, int lo, int hi) {
            this.data = data;
            this.pieceSize = pieceSize;
            this.out = out;
            this.lo = lo;
            this.hi = hi;
        }

        @Override
        protected void compute() {
            if (hi - lo <= 1) {
                hashRange();
            } else {
                int mid = (lo + hi) >>> 1;
                invokeAll(new PieceTask(data, pieceSize, out, lo, mid), new PieceTask(data, pieceSize, out, mid, hi));
            }
        }

        void hashRange() {
            for (int i = lo; i < hi; i++) {
                long start = i * pieceSize;
                out[i] = hash(data.asSlice(start, Math.min(pieceSize, data.byteSize() - start)));
            }
        }
    }
}
