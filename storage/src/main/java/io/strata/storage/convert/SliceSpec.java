package io.strata.storage.convert;

import io.strata.core.model.Layout;
import java.util.List;

/**
 * One stored piece of a source tensor: the block {@code rows [r0, r1) x cols [c0, c1)} of the source viewed as a
 * {@code [rows, cols]} matrix of units (elements, or blocks of a quantised type; 1-D and higher-rank tensors are
 * one row), stored as is ({@code transpose} false) or transposed. Unit {@code (r, c)} of the source is the
 * {@code elementSize} bytes at {@code r * rowPitch + c * colPitch} of the source data (a plain tensor has
 * {@code rowPitch = cols * elementSize}, {@code colPitch = elementSize}). {@code sliceDim} is an index into
 * {@code storedShape} (in elements), null when the tensor is replicated rather than cut.
 */
record SliceSpec(String tensor, long rows, long cols, long r0, long r1, long c0, long c1, boolean transpose,
                 List<Long> storedShape, List<Long> originalShape, Layout layout, Integer sliceDim, int sliceIdx,
                 int sliceCount, int elementSize, long rowPitch, long colPitch) {

    /** A slice of a row-major (contiguous) source. */
    SliceSpec(String tensor, long rows, long cols, long r0, long r1, long c0, long c1, boolean transpose,
              List<Long> storedShape, List<Long> originalShape, Layout layout, Integer sliceDim, int sliceIdx,
              int sliceCount, int elementSize) {
        this(tensor, rows, cols, r0, r1, c0, c1, transpose, storedShape, originalShape, layout, sliceDim, sliceIdx,
                sliceCount, elementSize, cols * elementSize, elementSize);
    }

    long byteSize() {
        return (r1 - r0) * (c1 - c0) * elementSize;
    }
}
