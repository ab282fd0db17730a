package io.strata.kernels.cpu;

import io.strata.core.model.DType;
import io.strata.core.model.Layout;
import io.strata.core.weights.TensorView;
import java.lang.foreign.MemorySegment;

/** Reference matvec: one element at a time, sequential float sums. */
final class ScalarMatVec implements MatVec {
    static final ScalarMatVec INSTANCE = new ScalarMatVec();

    @Override
    public void apply(TensorView w, float[] x, int xOff, float[] y, int yOff, int rowFrom, int rowTo) {
        MatVec.checkShape(w, x, xOff, y, yOff, rowFrom, rowTo);
        long out = w.rows();
        int in = Math.toIntExact(w.cols());
        MemorySegment d = w.data();
        DType t = w.dtype();
        boolean row = w.layout() == Layout.ROW;
        for (int o = rowFrom; o < rowTo; o++) {
            float acc = 0f;
            for (int i = 0; i < in; i++) {
                long idx = row ? (long) o * in + i : (long) i * out + o;
                acc += FloatCodec.get(d, t, idx) * x[xOff + i];
            }
            y[yOff + o] = acc;
        }
    }
}
