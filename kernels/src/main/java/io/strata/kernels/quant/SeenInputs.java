package io.strata.kernels.quant;

import java.util.Arrays;

/**
 * The float inputs a thread last quantised for an int8 matvec, kept to answer "are these the same bits again?".
 * Why: a matvec split over a worker team reaches the kernel once per piece of rows (a few pieces per thread),
 * and a SwiGLU's gate and up read the same x, so without it every piece re-quantised the whole input (for a
 * 128-token prompt, 128 vectors per piece per weight). Comparing the floats costs a read of them; quantising them
 * costs several times that. Bit-equal floats give bit-equal codes, so reuse changes no result.
 */
final class SeenInputs {
    private float[] seen = new float[0];
    private int cols = -1;
    private int count = -1;

    /**
     * True when {@code count} inputs of {@code cols} floats at {@code x[xOff + i * xStride]} are bit for bit the
     * ones of the last {@link #remember}; false (and forgotten) otherwise.
     */
    boolean same(float[] x, int xOff, int xStride, int count, int cols) {
        if (this.cols != cols || this.count != count) {
            return false;
        }
        for (int i = 0; i < count; i++) {
            int at = xOff + i * xStride;
            if (!Arrays.equals(x, at, at + cols, seen, i * cols, (i + 1) * cols)) {
                this.cols = -1;
                return false;
            }
        }
        return true;
    }

    /** Records these inputs as the ones now quantised. */
    void remember(float[] x, int xOff, int xStride, int count, int cols) {
        int n = Math.multiplyExact(count, cols);
        if (seen.length < n) {
            seen = new float[n];
        }
        for (int i = 0; i < count; i++) {
            System.arraycopy(x, xOff + i * xStride, seen, i * cols, cols);
        }
        this.cols = cols;
        this.count = count;
    }

    /** Forgets the inputs (the buffer they were quantised into is about to be overwritten by something else). */
    void forget() {
        cols = -1;
    }
}
