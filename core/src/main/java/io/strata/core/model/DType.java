package io.strata.core.model;

import java.util.Locale;
import java.util.Optional;

/**
 * Element types Strata stores and moves, plain and block-quantised. Names are the safetensors / RDRR manifest
 * spellings (ggml's for the quantised ones: {@code Q4_K}, {@code Q8_0} ...).
 *
 * <p>Every type is a run of blocks: {@link #blockSize()} elements in {@link #blockBytes()} bytes (1 element for
 * the plain types, 32 or 256 for ggml's quantised ones). This class is the one place that turns element counts
 * into byte counts: {@link #bytesFor(long)}, {@link #rowBytes(long)} and {@link #isWholeBlocks(long)} refuse a
 * count that would cut a block, so a slice, a row or a size check can never silently land inside one. The ggml
 * type ids of a GGUF file map here through {@link #ggmlTypeId()} / {@link #fromGgmlTypeId(int)}.
 */
public enum DType {
    F32(1, 4, 0), F16(1, 2, 1), BF16(1, 2, 30), I8(1, 1, 24), U8(1, 1, -1), I32(1, 4, 26), I64(1, 8, 27),
    F64(1, 8, 28),
    /** 32 int8 with one f16 scale. */
    Q8_0(32, 34, 8),
    /** 32 4-bit codes q with one f16 scale d: d * (q - 8). */
    Q4_0(32, 18, 2),
    /** 32 4-bit codes with f16 scale and min: d * q + m. */
    Q4_1(32, 20, 3),
    /** 32 5-bit codes (4 low bits + a 32-bit high-bit word) with one f16 scale: d * (q - 16). */
    Q5_0(32, 22, 6),
    /** 32 5-bit codes with f16 scale and min. */
    Q5_1(32, 24, 7),
    /** 256 2-bit codes in 16 groups with 4-bit scales and mins under f16 super-scales. */
    Q2_K(256, 84, 10),
    /** 256 3-bit codes in 16 groups with 6-bit signed scales under one f16 super-scale. */
    Q3_K(256, 110, 11),
    /** 256 4-bit codes in 8 groups with 6-bit scales and mins under f16 super-scales. */
    Q4_K(256, 144, 12),
    /** 256 5-bit codes in 8 groups with 6-bit scales and mins under f16 super-scales. */
    Q5_K(256, 176, 13),
    /** 256 6-bit codes in 16 groups with int8 scales under one f16 super-scale. */
    Q6_K(256, 210, 14),
    /** 32 FP4 (E2M1) codes with one E8M0 (power of two) scale. */
    MXFP4(32, 17, 39);

    private final int blockSize;
    private final int blockBytes;
    private final int ggmlTypeId;

    DType(int blockSize, int blockBytes, int ggmlTypeId) {
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
        this.ggmlTypeId = ggmlTypeId;
    }

    /**
     * Bytes per element of a plain type. A quantised type has no per-element size: asking is a bug in the
     * caller (it would cut blocks), so this throws; use {@link #bytesFor(long)}.
     */
    public int byteSize() {
        if (blockSize != 1) {
            throw new UnsupportedOperationException(this + " is block-quantised (" + blockSize + " elements in "
                    + blockBytes + " bytes): it has no per-element byte size, use bytesFor(elements)");
        }
        return blockBytes;
    }

    /** Elements per block: 1 for plain types. */
    public int blockSize() {
        return blockSize;
    }

    /** Bytes per block (the element size for plain types). */
    public int blockBytes() {
        return blockBytes;
    }

    public boolean isQuantized() {
        return blockSize != 1;
    }

    public boolean isFloat() {
        return this == F32 || this == F16 || this == BF16 || this == F64;
    }

    /** Whether {@code elements} is a whole number of blocks (always, for plain types). */
    public boolean isWholeBlocks(long elements) {
        return elements >= 0 && elements % blockSize == 0;
    }

    /**
     * Bytes holding {@code elements} consecutive elements.
     *
     * @throws IllegalArgumentException when the count is negative or not a whole number of blocks
     * @throws ArithmeticException      when the byte count overflows a long
     */
    public long bytesFor(long elements) {
        if (!isWholeBlocks(elements)) {
            throw new IllegalArgumentException(elements + " elements of " + this + " are not a whole number of "
                    + blockSize + "-element blocks");
        }
        return Math.multiplyExact(elements / blockSize, (long) blockBytes);
    }

    /**
     * Bytes of one row of {@code cols} elements (blocks run along the row, as in ggml: a quantised row must be a
     * whole number of blocks).
     */
    public long rowBytes(long cols) {
        if (!isWholeBlocks(cols)) {
            throw new IllegalArgumentException("a row of " + cols + " elements of " + this
                    + " is not a whole number of " + blockSize + "-element blocks");
        }
        return Math.multiplyExact(cols / blockSize, (long) blockBytes);
    }

    /** Bytes of a tensor of this shape (row-major, blocks along the last dimension). */
    public long bytesFor(long[] shape) {
        long rows = 1;
        for (int i = 0; i < shape.length - 1; i++) {
            rows = Math.multiplyExact(rows, shape[i]);
        }
        long cols = shape.length == 0 ? 1 : shape[shape.length - 1];
        return Math.multiplyExact(rows, rowBytes(cols));
    }

    /** Average storage bits per element (4.5 for Q4_K). */
    public double bitsPerElement() {
        return 8.0 * blockBytes / blockSize;
    }

    /** The ggml type id (GGUF tensor info {@code type}), or -1 where ggml has no such type. */
    public int ggmlTypeId() {
        return ggmlTypeId;
    }

    /** The Strata type for a ggml type id; empty for ids Strata does not support. */
    public static Optional<DType> fromGgmlTypeId(int id) {
        for (DType t : values()) {
            if (t.ggmlTypeId == id && id >= 0) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }

    /** The name this type has in manifests (and in safetensors for the plain types). */
    public String manifestName() {
        return name();
    }

    /** Parses a safetensors / manifest dtype name (any case); empty when Strata does not know it. */
    public static Optional<DType> parse(String name) {
        if (name == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(valueOf(name.toUpperCase(Locale.ROOT)));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }
}
