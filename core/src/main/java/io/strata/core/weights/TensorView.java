package io.strata.core.weights;

import io.strata.core.model.DType;
import io.strata.core.model.Layout;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * A tensor's bytes as the compute code sees them. {@code shape} is the logical (checkpoint) shape, e.g. [out, in]
 * for a linear weight; {@code layout} says whether {@code data} holds it row-major or transposed (column-major).
 * For a TP slice, {@code shape} is the slice's logical shape. The segment is valid only while its owner (an
 * {@link ExpertWeights} handle or the {@link WeightSource}) is open.
 */
public record TensorView(String name, MemorySegment data, DType dtype, long[] shape, Layout layout) {
    public TensorView {
        shape = shape.clone();
    }

    public long rows() {
        return shape[0];
    }

    public long cols() {
        return shape.length > 1 ? shape[1] : 1;
    }

    public long elementCount() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    @Override
    public String toString() {
        return name + Arrays.toString(shape) + " " + dtype + " " + layout;
    }
}
