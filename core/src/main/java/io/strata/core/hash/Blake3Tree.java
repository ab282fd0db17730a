package io.strata.core.hash;

import static io.strata.core.hash.Blake3Constants.IV;
import static io.strata.core.hash.Blake3Constants.OUT_LEN;

import io.strata.core.hash.SubtreeHasher.Top;
import java.util.List;

/**
 * Combining subtree chaining values (from {@link ParallelBlake3#subtreeChainingValue}) into parents and the root, for
 * unkeyed hashes: the building blocks of verified streaming (Bao-style), where a piece of a file is checked against
 * the file's hash from the piece plus its siblings' chaining values.
 */
final class Blake3Tree {
    private Blake3Tree() {
    }

    /** Chaining value of the (non-root) parent of two adjacent sibling subtrees. */
    public static byte[] parentChainingValue(byte[] left, byte[] right) {
        int[] cvs = children(left, right);
        ScalarCompressor.parent(cvs, 0, IV, 0, cvs, 0);
        return Blake3Constants.wordsToBytes(cvs, 0);
    }

    /** The hash of a whole input, given the chaining values of the root's two children. */
    public static byte[] rootHash(byte[] left, byte[] right) {
        return rootFromSubtrees(List.of(left, right));
    }

    /**
     * The hash of a whole input from the chaining values of its consecutive equal-size power-of-two subtrees (the last
     * may be smaller), e.g. one per 1 MiB piece of a file. Needs at least two subtrees: a lone one would be the root
     * itself, whose hash comes from different flags.
     */
    public static byte[] rootFromSubtrees(List<byte[]> chainingValues) {
        int n = chainingValues.size();
        if (n < 2) {
            throw new IllegalArgumentException("need at least two subtree chaining values, got " + n);
        }
        int[] cvs = new int[8 * n];
        for (int i = 0; i < n; i++) {
            copyWords(chainingValues.get(i), cvs, 8 * i);
        }
        int[] out = new int[8];
        SubtreeHasher.reduce(Compressors.best(), cvs, n, IV, 0, Top.ROOT, out, 0);
        return Blake3Constants.wordsToBytes(out, 0);
    }

    private static int[] children(byte[] left, byte[] right) {
        int[] cvs = new int[16];
        copyWords(left, cvs, 0);
        copyWords(right, cvs, 8);
        return cvs;
    }

    private static void copyWords(byte[] cv, int[] dst, int off) {
        if (cv.length != OUT_LEN) {
            throw new IllegalArgumentException("a chaining value is " + OUT_LEN + " bytes, got " + cv.length);
        }
        System.arraycopy(Blake3Constants.keyWords(cv), 0, dst, off, 8);
    }
}
