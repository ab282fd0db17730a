package io.strata.storage.synth;

import io.strata.core.model.DType;

/**
 * One tensor of a synthetic checkpoint before it is written: name, shape, and how its values are drawn.
 * Values are {@code center + uniform noise of standard deviation std}, plus {@code biasScale * d[col]} where
 * {@code d} is the checkpoint's shared ±1 direction (only rows marked in {@code biasedRows}).
 */
record TensorSpec(String name, long[] shape, DType dtype, float center, float std, float biasScale,
                  boolean[] biasedRows) {

    long elements() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    long byteSize() {
        return elements() * dtype.byteSize();
    }

    long rowLength() {
        return shape.length == 0 ? 1 : shape[shape.length - 1];
    }
}
