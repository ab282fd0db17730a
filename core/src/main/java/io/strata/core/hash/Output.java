package io.strata.core.hash;

import static io.strata.core.hash.Blake3Constants.BLOCK_LEN;
import static io.strata.core.hash.Blake3Constants.PARENT;
import static io.strata.core.hash.Blake3Constants.ROOT;

/**
 * A node's last compression, not yet run: as a chaining value when the node has a parent, with the ROOT flag when it
 * is the top of the tree (the same inputs give different outputs, which is why it waits).
 */
final class Output {
    private final int[] cv;
    private final int[] block;
    private final long counter;
    private final int blockLen;
    private final int flags;

    Output(int[] cv, int[] block, long counter, int blockLen, int flags) {
        this.cv = cv;
        this.block = block;
        this.counter = counter;
        this.blockLen = blockLen;
        this.flags = flags;
    }

    /** The parent node over two eight-word chaining values {@code left[lOff..]} and {@code right[rOff..]}. */
    static Output parent(int[] left, int lOff, int[] right, int rOff, int[] key, int flags) {
        int[] block = new int[16];
        System.arraycopy(left, lOff, block, 0, 8);
        System.arraycopy(right, rOff, block, 8, 8);
        return new Output(key, block, 0, BLOCK_LEN, flags | PARENT);
    }

    void chainingValue(int[] out, int outOff) {
        ScalarCompressor.compress(cv, 0, block, 0, counter, blockLen, flags, out, outOff);
    }

    int[] chainingValue() {
        int[] out = new int[8];
        chainingValue(out, 0);
        return out;
    }

    void rootWords(int[] out, int outOff) {
        ScalarCompressor.compress(cv, 0, block, 0, counter, blockLen, flags | ROOT, out, outOff);
    }

    byte[] rootHash() {
        int[] out = new int[8];
        rootWords(out, 0);
        return Blake3Constants.wordsToBytes(out, 0);
    }
}
