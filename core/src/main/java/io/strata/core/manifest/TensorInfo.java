package io.strata.core.manifest;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import io.strata.core.model.DType;
import io.strata.core.model.Layout;
import io.strata.core.model.Role;
import java.util.List;

/**
 * Where one tensor (or one tensor-parallel slice of it) lives. {@code shape} is the shape of the stored bytes:
 * for {@link Layout#COLUMN} it is the transpose of the checkpoint's {@code originalShape}, cut along
 * {@code sliceDim} (an index into the stored shape) when {@code sliceCount > 1}.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TensorInfo(
        int shard,
        long offset,
        long size,
        List<Long> shape,
        DType dtype,
        Role role,
        String group,
        Layout layout,
        List<Long> originalShape,
        Integer sliceDim,
        Integer sliceIdx,
        Integer sliceCount,
        List<Span> spans) {

    public TensorInfo {
        shape = shape == null ? List.of() : List.copyOf(shape);
        originalShape = originalShape == null ? null : List.copyOf(originalShape);
        spans = spans == null || spans.isEmpty() ? null : List.copyOf(spans);
    }

    public Layout layoutOrRow() {
        return layout == null ? Layout.ROW : layout;
    }

    public int sliceCountOrOne() {
        return sliceCount == null ? 1 : sliceCount;
    }

    public int sliceIdxOrZero() {
        return sliceIdx == null ? 0 : sliceIdx;
    }

    public long elementCount() {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** Where the stored bytes are, in order: the spans when the tensor has them, else its one range. */
    public List<Span> ranges() {
        return spans != null ? spans : List.of(new Span(shard, offset, size));
    }

    /** The checkpoint's shape: {@code originalShape} when recorded, else the stored shape. */
    public List<Long> logicalShape() {
        return originalShape != null ? originalShape : shape;
    }
}
