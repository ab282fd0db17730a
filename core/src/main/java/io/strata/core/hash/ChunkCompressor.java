package io.strata.core.hash;

import java.lang.foreign.MemorySegment;

/**
 * Bulk BLAKE3 compression: chaining values of many whole chunks, or of many parent nodes, at once. Implementations
 * differ only in speed (scalar reference vs one SIMD lane per chunk); outputs are eight words per node.
 */
interface ChunkCompressor {

    /**
     * Chaining values (non-root) of {@code n} whole 1 KiB chunks starting at {@code src[off]}, the first one having
     * chunk index {@code counter}; written as {@code 8 * n} words at {@code out[outOff]}.
     */
    void chunks(MemorySegment src, long off, int n, long counter, int[] key, int flags, int[] out, int outOff);

    /**
     * Chaining values (non-root) of {@code n} parent nodes whose children are consecutive pairs of eight-word chaining
     * values at {@code in[inOff]}; written at {@code out[outOff]}. {@code out} may be {@code in} with
     * {@code outOff == inOff} (the tree is reduced level by level in place).
     */
    void parents(int[] in, int inOff, int n, int[] key, int flags, int[] out, int outOff);

    /** How many nodes one compression step handles: 1 for scalar, the vector lane count otherwise. */
    int lanes();

    /** Short name for diagnostics and benchmarks, e.g. "vector-512bit-16lanes". */
    String description();
}
