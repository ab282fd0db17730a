package io.strata.core.hash;

import static io.strata.core.hash.Blake3Constants.BLOCK_LEN;
import static io.strata.core.hash.Blake3Constants.CHUNK_END;
import static io.strata.core.hash.Blake3Constants.CHUNK_LEN;
import static io.strata.core.hash.Blake3Constants.CHUNK_START;
import static io.strata.core.hash.Blake3Constants.LE_INT;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * One chunk (up to 1 KiB) being absorbed block by block. The last block is held back uncompressed, because only at
 * the end is it known whether it is the chunk's final block and whether the chunk is the root.
 */
final class ChunkState {
    private final int[] key;
    private final int flags;
    private final int[] cv = new int[8];
    private final int[] block = new int[16];
    private final MemorySegment blockBytes;
    private final byte[] blockArray = new byte[BLOCK_LEN];
    private long counter;
    private int blockLen;
    private int blocksCompressed;

    ChunkState(int[] key, int flags, long counter) {
        this.key = key;
        this.flags = flags;
        this.blockBytes = MemorySegment.ofArray(blockArray);
        reset(counter);
    }

    void reset(long chunkCounter) {
        System.arraycopy(key, 0, cv, 0, 8);
        Arrays.fill(blockArray, (byte) 0);
        counter = chunkCounter;
        blockLen = 0;
        blocksCompressed = 0;
    }

    long counter() {
        return counter;
    }

    int length() {
        return blocksCompressed * BLOCK_LEN + blockLen;
    }

    /** Absorbs {@code n} bytes; the caller keeps the chunk within 1 KiB. */
    void update(MemorySegment src, long off, long n) {
        if (length() + n > CHUNK_LEN) {
            throw new IllegalStateException("chunk overflow: " + length() + " + " + n);
        }
        while (n > 0) {
            if (blockLen == BLOCK_LEN) {
                loadBlockWords();
                int f = flags | (blocksCompressed == 0 ? CHUNK_START : 0);
                ScalarCompressor.compress(cv, 0, block, 0, counter, BLOCK_LEN, f, cv, 0);
                blocksCompressed++;
                blockLen = 0;
                Arrays.fill(blockArray, (byte) 0);
            }
            int take = (int) Math.min(BLOCK_LEN - blockLen, n);
            MemorySegment.copy(src, off, blockBytes, blockLen, take);
            blockLen += take;
            off += take;
            n -= take;
        }
    }

    /** The pending final compression of this chunk (root or not is decided by the caller). */
    Output output() {
        loadBlockWords();
        int f = flags | CHUNK_END | (blocksCompressed == 0 ? CHUNK_START : 0);
        return new Output(cv.clone(), block.clone(), counter, blockLen, f);
    }

    private void loadBlockWords() {
        MemorySegment.copy(blockBytes, LE_INT, 0, block, 0, 16);
    }
}
