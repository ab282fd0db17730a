package io.strata.kernels.cpu;

import io.strata.core.model.Layout;
import io.strata.core.weights.TensorView;
import io.strata.kernels.quant.Dequantize;

/** Row lookup in a [rows, cols] table (token embeddings), in either layout; a block-quantised row is dequantised. */
public final class Embedding {
    private Embedding() {
    }

    public static void row(TensorView table, int r, float[] out) {
        row(table, r, out, 0);
    }

    /** Row r into out[outOff .. outOff + cols). */
    public static void row(TensorView table, int r, float[] out, int outOff) {
        long rows = table.rows();
        int cols = Math.toIntExact(table.cols());
        if (r < 0 || r >= rows) {
            throw new IllegalArgumentException(table.name() + ": row " + r + " out of range [0, " + rows + ")");
        }
        if (table.dtype().isQuantized()) {
            // ggml blocks run along the row: dequantise just this row's blocks
            if (table.layout() != Layout.ROW) {
                throw new IllegalArgumentException(table.name() + ": a " + table.dtype() + " table must be row-major");
            }
            Dequantize.row(table.dtype(), table.data(), r * table.dtype().rowBytes(cols), out, outOff, cols);
        } else if (table.layout() == Layout.ROW) {
            FloatCodec.decode(table.data(), table.dtype(), (long) r * cols, out, outOff, cols);
        } else {
            for (int c = 0; c < cols; c++) {
                out[outOff + c] = FloatCodec.get(table.data(), table.dtype(), (long) c * rows + r);
            }
        }
    }

    /** A whole 1-D tensor (a norm weight) as floats. */
    public static float[] vector(TensorView v) {
        int n = Math.toIntExact(v.elementCount());
        float[] out = new float[n];
        Dequantize.row(v.dtype(), v.data(), 0, out, 0, n);
        return out;
    }
}
