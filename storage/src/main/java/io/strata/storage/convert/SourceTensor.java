package io.strata.storage.convert;

import io.strata.core.model.DType;
import io.strata.storage.safetensors.SafetensorsTensor;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * One tensor as the converter stores it, whatever file it comes from: its manifest name (Strata's canonical,
 * Hugging Face, naming), its type and row-major shape, and where its bytes are. Exists because a stored tensor is
 * not always a whole tensor of the source: a GGUF file and newer safetensors checkpoints fuse all experts of a
 * layer into one tensor, and each expert's gate/up/down is cut out of it at conversion ({@link GgufSource},
 * {@link FusedExperts}).
 *
 * <p>A rank-2 tensor is read as a strided matrix of {@code units}: element {@code (r, c)} is the
 * {@link #unitBytes()} bytes at {@code data + r * rowPitch + c * colPitch}. A unit is one element of a plain type
 * or one block of a block-quantised type (blocks run along rows, so a quantised row is {@code cols / blockSize}
 * units). Plain tensors have {@code rowPitch = row bytes, colPitch = unitBytes}; a fused expert stored
 * transposed or interleaved has other pitches. Other ranks are contiguous.
 *
 * @param name   the manifest name
 * @param origin what to call it in a message: the source tensor (and expert) it comes from
 * @param file   the source file, for messages
 */
record SourceTensor(String name, String origin, DType dtype, long[] shape, Path file, MemorySegment data,
                    long rowPitch, long colPitch) {
    SourceTensor {
        shape = shape.clone();
    }

    /** A tensor whose bytes are {@code data}, row-major. */
    static SourceTensor contiguous(String name, String origin, DType dtype, long[] shape, Path file,
                                   MemorySegment data) {
        long unit = dtype.blockBytes();
        long rowPitch = shape.length == 2 ? dtype.rowBytes(shape[1]) : 0;
        return new SourceTensor(name, origin, dtype, shape, file, data, rowPitch, unit);
    }

    static SourceTensor of(SafetensorsTensor t) {
        return contiguous(t.name(), t.name(), t.dtype(), t.shape(), t.file(), t.data());
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    int rank() {
        return shape.length;
    }

    /** Bytes per unit: the element size, or the block size in bytes of a quantised type. */
    int unitBytes() {
        return dtype.blockBytes();
    }

    /** Units per row of a rank-2 tensor (elements, or blocks of a quantised type). */
    long unitCols() {
        return shape[1] / dtype.blockSize();
    }

    /** Whether rows are contiguous units, so no element has to be gathered. */
    boolean denseRows() {
        return colPitch == unitBytes();
    }

    /** The name used in messages: the manifest name and, when different, the source tensor. */
    String describe() {
        return origin.equals(name) ? "'" + name + "'" : "'" + origin + "' (stored as '" + name + "')";
    }

    @Override
    public String toString() {
        return name + Arrays.toString(shape) + " " + dtype + " from " + origin;
    }
}
