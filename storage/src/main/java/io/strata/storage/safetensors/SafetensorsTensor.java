package io.strata.storage.safetensors;

import io.strata.core.model.DType;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Arrays;

/** One tensor of a safetensors file: a zero-copy slice of the file's mapping. */
public record SafetensorsTensor(String name, DType dtype, long[] shape, Path file, long fileOffset, long byteSize,
                                MemorySegment data) {
    public SafetensorsTensor {
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

    @Override
    public String toString() {
        return name + Arrays.toString(shape) + " " + dtype + " @" + file.getFileName() + "+" + fileOffset;
    }
}
