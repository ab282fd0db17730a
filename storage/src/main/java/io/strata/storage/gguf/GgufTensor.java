package io.strata.storage.gguf;

import io.strata.core.model.DType;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * One tensor of a GGUF file: a zero-copy slice of the file's mapping. {@code shape} is row-major (outermost
 * first, the reverse of ggml's {@code ne} order), so a linear weight is {@code [out, in]} and a fused expert
 * tensor is {@code [experts, out, in]}; quantised blocks run along the last dimension. {@code index} is the
 * tensor's position in the file's tensor-info table, {@code fileOffset} the absolute offset of its first byte.
 */
public record GgufTensor(String name, int index, DType dtype, long[] shape, Path file, long fileOffset,
                         long byteSize, MemorySegment data) {
    public GgufTensor {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    public long dim(int i) {
        return shape[i];
    }

    public long elementCount() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /** Elements per row: the innermost dimension (ggml's {@code ne[0]}). */
    public long rowLength() {
        return shape[shape.length - 1];
    }

    /** Rows: the product of all but the innermost dimension. */
    public long rowCount() {
        return elementCount() / Math.max(1, rowLength());
    }

    @Override
    public String toString() {
        return name + Arrays.toString(shape) + " " + dtype + " @" + file.getFileName() + "+" + fileOffset;
    }
}
