package io.strata.core.hash;

import static io.strata.core.hash.Blake3Constants.CHUNK_LEN;
import static io.strata.core.hash.Blake3Constants.MAX_DEPTH;
import static io.strata.core.hash.Blake3Constants.OUT_LEN;

import io.strata.core.hash.SubtreeHasher.Top;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

/**
 * Incremental BLAKE3 for streaming writers and network reads: feed bytes in pieces of any size, then
 * {@link #digest()}. Whole power-of-two subtrees inside a large update go through the SIMD / parallel engine; only
 * the ragged edges are absorbed chunk by chunk. Not thread-safe.
 *
 * <p>Follows the reference design: a stack of chaining values of completed subtrees, merged lazily so the last
 * node can still become the root when {@link #digest()} is called.
 */
public final class Blake3Hasher {
    private final ParallelBlake3 engine;
    private final int[] key;
    private final int flags;
    private final ChunkState chunk;
    private final int[] stack = new int[8 * (MAX_DEPTH + 1)];
    private final int[] children = new int[16];
    private int depth;
    private long length;

    Blake3Hasher(ParallelBlake3 engine, int[] key, int flags) {
        this.engine = engine;
        this.key = key;
        this.flags = flags;
        this.chunk = new ChunkState(key, flags, 0);
    }

    /** Total bytes fed since creation or the last {@link #reset()}. */
    public long length() {
        return length;
    }

    public Blake3Hasher reset() {
        chunk.reset(0);
        depth = 0;
        length = 0;
        return this;
    }

    public Blake3Hasher update(byte[] data) {
        return update(MemorySegment.ofArray(data));
    }

    public Blake3Hasher update(byte[] data, int off, int len) {
        return update(MemorySegment.ofArray(data).asSlice(off, len));
    }

    /** Absorbs the buffer's remaining bytes and advances its position to its limit. */
    public Blake3Hasher update(ByteBuffer data) {
        update(MemorySegment.ofBuffer(data));
        data.position(data.limit());
        return this;
    }

    public Blake3Hasher update(MemorySegment data) {
        long off = 0;
        long rem = data.byteSize();
        length += rem;
        if (chunk.length() > 0) {
            long take = Math.min(CHUNK_LEN - chunk.length(), rem);
            chunk.update(data, off, take);
            off += take;
            rem -= take;
            if (rem == 0) {
                return this;
            }
            // More input follows, so this chunk is complete and not the root.
            pushCv(chunk.output(), chunk.counter());
            chunk.reset(chunk.counter() + 1);
        }
        // Whole subtrees, as large as both the remaining input and the alignment of the chunk counter allow. At least
        // one byte stays behind, so the final chunk is always in `chunk` when digest() runs.
        while (rem > CHUNK_LEN) {
            long counter = chunk.counter();
            long subtreeLen = Long.highestOneBit(rem);
            while (((subtreeLen - 1) & (counter * CHUNK_LEN)) != 0) {
                subtreeLen >>>= 1;
            }
            long subtreeChunks = subtreeLen / CHUNK_LEN;
            if (subtreeChunks == 1) {
                pushCv(SubtreeHasher.chunkOutput(data, off, CHUNK_LEN, counter, key, flags), counter);
            } else {
                // Keep the subtree's two halves unmerged: if nothing follows, their parent is the root.
                engine.tree(data, off, subtreeLen, counter, key, flags, Top.CHILDREN, children, 0);
                mergeStack(counter);
                push(children, 0);
                mergeStack(counter + subtreeChunks / 2);
                push(children, 8);
            }
            chunk.reset(counter + subtreeChunks);
            off += subtreeLen;
            rem -= subtreeLen;
        }
        if (rem > 0) {
            chunk.update(data, off, rem);
            // Input now follows everything on the stack, so none of it can be the root: merge what is complete.
            mergeStack(chunk.counter());
        }
        return this;
    }

    /** The 32-byte hash of everything fed so far; the hasher may keep receiving input afterwards. */
    public byte[] digest() {
        Output out;
        int remaining = depth;
        if (remaining == 0) {
            return chunk.output().rootHash();
        }
        if (chunk.length() > 0) {
            out = chunk.output();
        } else {
            out = Output.parent(stack, 8 * (remaining - 2), stack, 8 * (remaining - 1), key, flags);
            remaining -= 2;
        }
        while (remaining > 0) {
            out = Output.parent(stack, 8 * (remaining - 1), out.chainingValue(), 0, key, flags);
            remaining--;
        }
        return out.rootHash();
    }

    /** Writes the 32-byte hash into {@code dst[off..]}. */
    public void digest(byte[] dst, int off) {
        System.arraycopy(digest(), 0, dst, off, OUT_LEN);
    }

    private void pushCv(Output node, long chunkCounter) {
        mergeStack(chunkCounter);
        node.chainingValue(stack, 8 * depth);
        depth++;
    }

    private void push(int[] cv, int off) {
        System.arraycopy(cv, off, stack, 8 * depth, 8);
        depth++;
    }

    /** Merges completed subtrees until the stack has one entry per 1-bit of {@code totalChunks}. */
    private void mergeStack(long totalChunks) {
        int keep = Long.bitCount(totalChunks);
        while (depth > keep) {
            ScalarCompressor.parent(stack, 8 * (depth - 2), key, flags, stack, 8 * (depth - 2));
            depth--;
        }
    }
}
