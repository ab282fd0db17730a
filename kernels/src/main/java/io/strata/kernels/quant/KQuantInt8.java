package io.strata.kernels.quant;

import io.strata.core.model.DType;
import java.lang.foreign.MemorySegment;

/** Placeholder until the int8 kernels land (lead's scaffolding; replaced by the helper's class at merge). */
final class KQuantInt8 {
    private KQuantInt8() {
    }

    static boolean supports(DType t) {
        return false;
    }

    static void rows(DType t, MemorySegment w, long rowBytes, int nb, float[] x, int xOff, float[] y, int yOff,
                     int from, int to) {
        throw new UnsupportedOperationException(t.toString());
    }

    static void batch(DType t, MemorySegment w, long rowBytes, int nb, float[] x, int xOff, int xStride, int count,
                      float[] y, int yOff, int yStride, int from, int to) {
        throw new UnsupportedOperationException(t.toString());
    }
}
