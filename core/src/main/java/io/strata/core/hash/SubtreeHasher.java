package io.strata.core.hash;

import static io.strata.core.hash.Blake3Constants.BLOCK_LEN;
import static io.strata.core.hash.Blake3Constants.CHUNK_LEN;
import static io.strata.core.hash.Blake3Constants.PARENT;
import static io.strata.core.hash.Blake3Constants.ROOT;

import java.lang.foreign.MemorySegment;

/**
 * Single-threaded hashing of one subtree (a run of consecutive chunks), bulk-compressing its chunks and then its tree
 * level by level. Pairing neighbours level by level and carrying an odd last node upwards builds exactly BLAKE3's
 * tree (every left subtree a full power of two), so every level is one bulk {@link ChunkCompressor#parents} call.
 */
final class SubtreeHasher {

    /** What the top of a reduced subtree should be turned into. */
    enum Top {
        /** The tree's root: eight words that are the 32-byte hash. */
        ROOT,
        /** An ordinary chaining value, for a subtree that has a parent. */
        CHAINING_VALUE,
        /** The two chaining values under the subtree's top node (16 words), left unmerged so it may become the root. */
        CHILDREN
    }

    private SubtreeHasher() {
    }

    /**
     * Hashes {@code len} bytes at {@code src[off]} (at most a few hundred chunks: the caller bounds the scratch size)
     * whose first chunk has index {@code counter}.
     */
    static void subtree(ChunkCompressor c, MemorySegment src, long off, long len, long counter, int[] key, int flags,
                        Top top, int[] out, int outOff) {
        int nChunks = Math.toIntExact((len + CHUNK_LEN - 1) / CHUNK_LEN);
        if (nChunks <= 1) {
            Output o = chunkOutput(src, off, len, counter, key, flags);
            switch (top) {
                case CHAINING_VALUE -> o.chainingValue(out, outOff);
                case ROOT -> o.rootWords(out, outOff);
                case CHILDREN -> throw new IllegalArgumentException("a single chunk has no children");
            }
            return;
        }
        int full = (int) (len / CHUNK_LEN);
        int tail = (int) (len % CHUNK_LEN);
        int[] cvs = new int[8 * nChunks];
        c.chunks(src, off, full, counter, key, flags, cvs, 0);
        if (tail > 0) {
            chunkOutput(src, off + (long) full * CHUNK_LEN, tail, counter + full, key, flags).chainingValue(cvs, 8 * full);
        }
        reduce(c, cvs, nChunks, key, flags, top, out, outOff);
    }

    /**
     * Reduces {@code count} consecutive sibling chaining values in {@code cvs} (destroying them) to the requested top.
     */
    static void reduce(ChunkCompressor c, int[] cvs, int count, int[] key, int flags, Top top, int[] out, int outOff) {
        if (count < 1 || (top != Top.CHAINING_VALUE && count < 2)) {
            throw new IllegalArgumentException(top + " needs at least two nodes, got " + count);
        }
        int stop = top == Top.CHAINING_VALUE ? 1 : 2;
        while (count > stop) {
            int parents = count / 2;
            c.parents(cvs, 0, parents, key, flags, cvs, 0);
            if ((count & 1) != 0) {
                System.arraycopy(cvs, 8 * (count - 1), cvs, 8 * parents, 8);
            }
            count = parents + (count & 1);
        }
        switch (top) {
            case CHAINING_VALUE -> System.arraycopy(cvs, 0, out, outOff, 8);
            case CHILDREN -> System.arraycopy(cvs, 0, out, outOff, 16);
            case ROOT -> ScalarCompressor.compress(key, 0, cvs, 0, 0, BLOCK_LEN, flags | PARENT | ROOT, out, outOff);
        }
    }

    /** The final compression of one (possibly partial, possibly empty) chunk, not yet run. */
    static Output chunkOutput(MemorySegment src, long off, long len, long counter, int[] key, int flags) {
        ChunkState cs = new ChunkState(key, flags, counter);
        cs.update(src, off, len);
        return cs.output();
    }
}
