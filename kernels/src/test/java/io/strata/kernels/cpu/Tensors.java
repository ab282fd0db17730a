package io.strata.kernels.cpu;

import io.strata.core.model.DType;
import io.strata.core.model.Layout;
import io.strata.core.weights.TensorView;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

/** Random test tensors: the logical [rows][cols] floats (already rounded to the dtype) and their stored view. */
final class Tensors {
    private Tensors() {
    }

    record Weight(float[][] values, TensorView view) {
    }

    static Weight random(Arena arena, Random rnd, DType dtype, Layout layout, int rows, int cols) {
        MemorySegment seg = arena.allocate((long) rows * cols * dtype.byteSize(), 64);
        float[][] v = new float[rows][cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                long idx = layout == Layout.ROW ? (long) r * cols + c : (long) c * rows + r;
                FloatCodec.set(seg, dtype, idx, (float) rnd.nextGaussian());
                v[r][c] = FloatCodec.get(seg, dtype, idx);
            }
        }
        return new Weight(v, new TensorView("w" + rows + "x" + cols, seg, dtype, new long[] {rows, cols}, layout));
    }

    static float[] gaussian(Random rnd, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        return x;
    }

    /** y = W x in double, plus sum |w x| (the scale of the rounding error). */
    static double[][] exact(float[][] w, float[] x, int xOff) {
        double[] y = new double[w.length];
        double[] mag = new double[w.length];
        for (int r = 0; r < w.length; r++) {
            for (int c = 0; c < w[r].length; c++) {
                y[r] += (double) w[r][c] * x[xOff + c];
                mag[r] += Math.abs((double) w[r][c] * x[xOff + c]);
            }
        }
        return new double[][] {y, mag};
    }
}
