package io.strata.storage.convert;

import io.strata.core.model.Layout;
import java.util.List;

/**
 * One stored piece of a source tensor: the block {@code rows [r0, r1) x cols [c0, c1)} of the source viewed as
 * a row-major {@code [rows, cols]} matrix (1-D and higher-rank tensors are one row), stored as is
 * ({@code transpose} false) or transposed. {@code sliceDim} is an index into {@code storedShape}, null when the
 * tensor is replicated rather than cut.
 */
record SliceSpec(String tensor, long rows, long cols, long r0, long r1, long c0, long c1, boolean transpose,
                 List<Long> storedShape, List<Long> originalShape, Layout layout, Integer sliceDim, int sliceIdx,
                 int sliceCount, int elementSize) {

    long byteSize() {
        return (r1 - r0) * (c1 - c0) * elementSize;
    }
}
