package io.strata.kernels.quant;

import io.strata.core.model.DType;
import io.strata.core.model.Layout;
import io.strata.core.weights.TensorView;
import io.strata.kernels.cpu.MatVec;
import io.strata.kernels.cpu.NativeQuant;
import java.lang.foreign.MemorySegment;

/**
 * y = W x for a row-major weight W [rows, cols] stored in one of ggml's block formats (every quantised
 * {@link DType}), read straight from its segment: no dequantised copy of the weight is made. Activations are
 * float. {@link #matvec} computes a row range, so callers can split rows across threads; a row's result does
 * not depend on the range it is computed in. Also a {@link MatVec} for {@link TensorView}s of quantised types
 * (row layout only: ggml blocks run along rows); a view whose rows are not whole blocks has each row padded up to
 * one (as DOPPLER stores Q4_K_M), and the input is zero-padded to match. Q8_0, Q4_0, Q4_K, Q5_K and Q6_K rows run
 * natively when the native CPU kernels are selected ({@link NativeQuant}: the same bits as the Java row kernels).
 * A batch of inputs ({@link #applyBatch}, a prompt's positions) unpacks each block of rows once for all of them
 * ({@link BatchDot}, Java) and gives each input the bits {@link #apply} would.
 *
 * <p>Two arithmetics ({@link QuantArithmetic}): {@link #INSTANCE} keeps x in float (exact to the dequantised
 * weights), {@link #INT8} quantises x per block to 8 bits as llama.cpp does and sums each block in integers
 * ({@code LegacyInt8} for Q4_0/Q4_1/Q5_0/Q5_1/Q8_0, {@code KQuantInt8} for the K-quants; the other types run the
 * float arithmetic in both). Within one arithmetic, Java and native kernels, one input and a batch, give the same
 * bits.
 */
public final class QuantMatVec implements MatVec {
    /** The float arithmetic ({@link QuantArithmetic#FLOAT}). */
    public static final QuantMatVec INSTANCE = new QuantMatVec(QuantArithmetic.FLOAT);
    /** llama.cpp's int8 arithmetic ({@link QuantArithmetic#INT8}). */
    public static final QuantMatVec INT8 = new QuantMatVec(QuantArithmetic.INT8);

    private final QuantArithmetic arithmetic;

    private QuantMatVec(QuantArithmetic arithmetic) {
        this.arithmetic = arithmetic;
    }

    /** The kernel for {@code a}. */
    public static QuantMatVec of(QuantArithmetic a) {
        return a == QuantArithmetic.INT8 ? INT8 : INSTANCE;
    }

    public QuantArithmetic arithmetic() {
        return arithmetic;
    }

    /** The types {@link QuantArithmetic#INT8} computes in int8 (the rest use the float arithmetic). */
    public static java.util.List<DType> int8Types() {
        return java.util.Arrays.stream(DType.values()).filter(QuantMatVec::hasInt8).toList();
    }

    /** Whether the int8 kernels of every type in {@link #int8Types()} run natively here now. */
    public static boolean int8Native() {
        return io.strata.kernels.cpu.NativeLegacyInt8.enabled() && io.strata.kernels.cpu.NativeKQuantInt8.enabled();
    }

    private static boolean hasInt8(DType t) {
        return t.isQuantized() && (LegacyInt8.supports(t) || KQuantInt8.supports(t));
    }

    @Override
    public void apply(TensorView w, float[] x, int xOff, float[] y, int yOff, int rowFrom, int rowTo) {
        if (w.layout() != Layout.ROW) {
            throw new IllegalArgumentException(w.name() + ": a " + w.dtype() + " weight must be stored row-major");
        }
        long cols = w.cols();
        int bs = w.dtype().blockSize();
        if (w.shape().length == 2 && cols % bs != 0) {
            // rows padded to whole blocks (DOPPLER's Q4_K_M row layout): zero activations meet the padding
            if (xOff < 0 || xOff + cols > x.length) {
                throw new IllegalArgumentException(w.name() + ": input needs " + cols + " floats at " + xOff
                        + ", vector has " + x.length);
            }
            float[] padded = new float[Math.toIntExact(Math.ceilDiv(cols, bs) * bs)];
            System.arraycopy(x, xOff, padded, 0, (int) cols);
            matvec(arithmetic, w.dtype(), w.data(), w.rows(), padded.length, padded, 0, y, yOff, rowFrom, rowTo);
            return;
        }
        MatVec.checkShape(w, x, xOff, y, yOff, rowFrom, rowTo);
        matvec(arithmetic, w.dtype(), w.data(), w.rows(), Math.toIntExact(cols), x, xOff, y, yOff, rowFrom, rowTo);
    }

    /**
     * The batch form ({@link MatVec#applyBatch}): a block of rows is unpacked once for all {@code count} inputs
     * ({@link BatchDot}) instead of once per input; each value has the bits {@link #apply} gives that input.
     */
    @Override
    public void applyBatch(TensorView w, float[] x, int xOff, int xStride, int count, float[] y, int yOff,
                           int yStride, int rowFrom, int rowTo) {
        DType t = w.dtype();
        if (count == 1) { // one input (decode's batch of one): one row-kernel call, x quantised once (int8)
            apply(w, x, xOff, y, yOff, rowFrom, rowTo);
            return;
        }
        if (count < 2 || !t.isQuantized() || w.layout() != Layout.ROW || w.rows() * w.cols() != w.elementCount()) {
            MatVec.super.applyBatch(w, x, xOff, xStride, count, y, yOff, yStride, rowFrom, rowTo); // apply's checks
            return;
        }
        long cols = w.cols();
        int bs = t.blockSize();
        int padded = Math.toIntExact(Math.ceilDiv(cols, bs) * bs);
        long rowBytes = t.rowBytes(padded);
        if (rowFrom < 0 || rowTo > w.rows() || rowFrom > rowTo) {
            throw new IllegalArgumentException(w.name() + ": rows [" + rowFrom + ", " + rowTo + ") do not fit "
                    + w.rows() + " rows");
        }
        if (w.data().byteSize() < Math.multiplyExact(w.rows(), rowBytes)) {
            throw new IllegalArgumentException(w.name() + ": weight has " + w.data().byteSize() + " bytes, "
                    + w.rows() + " rows of " + cols + " " + t + " need " + w.rows() * rowBytes);
        }
        for (int i = 0; i < count; i++) {
            long xo = xOff + (long) i * xStride;
            long yo = yOff + (long) i * yStride;
            if (xo < 0 || xo + cols > x.length || yo < 0 || yo + rowTo > y.length) {
                throw new IllegalArgumentException(w.name() + ": input " + i + " needs " + cols + " floats at " + xo
                        + " (has " + x.length + "), output " + rowTo + " at " + yo + " (has " + y.length + ")");
            }
        }
        if (arithmetic == QuantArithmetic.INT8 && hasInt8(t)) {
            if (padded != cols) { // rows padded to whole blocks: each input zero-padded as apply does
                MatVec.super.applyBatch(w, x, xOff, xStride, count, y, yOff, yStride, rowFrom, rowTo);
            } else if (LegacyInt8.supports(t)) {
                LegacyInt8.batch(t, w.data(), rowBytes, padded / bs, x, xOff, xStride, count, y, yOff, yStride,
                        rowFrom, rowTo);
            } else {
                KQuantInt8.batch(t, w.data(), rowBytes, padded / bs, x, xOff, xStride, count, y, yOff, yStride,
                        rowFrom, rowTo);
            }
            return;
        }
        BatchDot.apply(t, w.data(), rowBytes, padded, x, xOff, xStride, (int) cols, count, y, yOff, yStride,
                rowFrom, rowTo);
    }

    /**
     * {@code y[yOff + r] = sum_c W[r][c] * x[xOff + c]} for rows r in [rowFrom, rowTo) of the {@code rows x cols}
     * weight whose first row starts at byte 0 of {@code w}, in the float arithmetic.
     */
    public static void matvec(DType t, MemorySegment w, long rows, int cols, float[] x, int xOff, float[] y,
                              int yOff, int rowFrom, int rowTo) {
        matvec(QuantArithmetic.FLOAT, t, w, rows, cols, x, xOff, y, yOff, rowFrom, rowTo);
    }

    /** {@link #matvec(DType, MemorySegment, long, int, float[], int, float[], int, int, int)} in arithmetic {@code a}. */
    public static void matvec(QuantArithmetic a, DType t, MemorySegment w, long rows, int cols, float[] x, int xOff,
                              float[] y, int yOff, int rowFrom, int rowTo) {
        if (!t.isQuantized()) {
            throw new IllegalArgumentException(t + " is not block-quantised: use MatVec.vector()");
        }
        long rowBytes = t.rowBytes(cols);
        if (rowFrom < 0 || rowTo > rows || rowFrom > rowTo) {
            throw new IllegalArgumentException("rows [" + rowFrom + ", " + rowTo + ") do not fit " + rows + " rows");
        }
        if (w.byteSize() < Math.multiplyExact(rows, rowBytes)) {
            throw new IllegalArgumentException("weight has " + w.byteSize() + " bytes, " + rows + " rows of " + cols
                    + " " + t + " need " + rows * rowBytes);
        }
        if (xOff < 0 || xOff + cols > x.length || yOff < 0 || yOff + rowTo > y.length) {
            throw new IllegalArgumentException("input needs " + cols + " floats at " + xOff + " (has " + x.length
                    + "), output " + rowTo + " at " + yOff + " (has " + y.length + ")");
        }
        int nb = cols / t.blockSize();
        if (a == QuantArithmetic.INT8) {
            if (LegacyInt8.supports(t)) {
                LegacyInt8.rows(t, w, rowBytes, nb, x, xOff, y, yOff, rowFrom, rowTo);
                return;
            }
            if (KQuantInt8.supports(t)) {
                KQuantInt8.rows(t, w, rowBytes, nb, x, xOff, y, yOff, rowFrom, rowTo);
                return;
            }
        }
        if (NativeQuant.enabled() && NativeQuant.rows(t, w, nb, x, xOff, y, yOff, rowFrom, rowTo)) {
            return; // the native twin of the row kernel below: the same bits
        }
        float[] xs = switch (t) {
            case Q4_1, Q5_1, Q4_K, Q5_K -> groupSums(x, xOff, cols, 32);
            case Q2_K -> groupSums(x, xOff, cols, 16);
            default -> null;
        };
        float[] lanes = new float[BlockDot.L];
        float[] groupScales = new float[cols / 16];
        // The kernels rewritten with their own row loop are compiled (and OSR-compiled) each by itself; inlined
        // into this loop with the others they exceeded C2's inlining budget and boxed their vectors (Q6_K: 30x).
        switch (t) {
            case Q8_0 -> BlockDot.q8_0(w, rowBytes, rowFrom, rowTo, y, yOff, nb, x, xOff, lanes);
            case Q4_0 -> BlockDot.q4_0(w, rowBytes, rowFrom, rowTo, y, yOff, nb, x, xOff, lanes);
            case Q4_K -> BlockDot.q4K(w, rowBytes, rowFrom, rowTo, y, yOff, nb, x, xOff, xs, lanes, groupScales);
            case Q5_K -> BlockDot.q5K(w, rowBytes, rowFrom, rowTo, y, yOff, nb, x, xOff, xs, lanes, groupScales);
            case Q6_K -> BlockDot.q6K(w, rowBytes, rowFrom, rowTo, y, yOff, nb, x, xOff, lanes, groupScales);
            default -> rows(t, w, rowBytes, nb, x, xOff, xs, y, yOff, rowFrom, rowTo, lanes, groupScales);
        }
    }

    private static void rows(DType t, MemorySegment w, long rowBytes, int nb, float[] x, int xOff, float[] xs,
                             float[] y, int yOff, int rowFrom, int rowTo, float[] lanes, float[] groupScales) {
        for (int r = rowFrom; r < rowTo; r++) {
            long off = r * rowBytes;
            y[yOff + r] = switch (t) {
                case Q4_1 -> BlockDot.q4_1(w, off, nb, x, xOff, xs, lanes);
                case Q5_0 -> BlockDot.q5_0(w, off, nb, x, xOff, lanes);
                case Q5_1 -> BlockDot.q5_1(w, off, nb, x, xOff, xs, lanes);
                case MXFP4 -> BlockDot.mxfp4(w, off, nb, x, xOff, lanes);
                case Q2_K -> BlockDot.q2K(w, off, nb, x, xOff, xs, lanes, groupScales);
                case Q3_K -> BlockDot.q3K(w, off, nb, x, xOff, lanes, groupScales);
                default -> throw new IllegalArgumentException("no quantised matvec for " + t);
            };
        }
    }

    /** Sums of x over consecutive groups of {@code g} elements, each added in index order. */
    private static float[] groupSums(float[] x, int xOff, int cols, int g) {
        float[] s = new float[cols / g];
        for (int i = 0; i < s.length; i++) {
            float a = 0;
            for (int j = 0; j < g; j++) {
                a += x[xOff + i * g + j];
            }
            s[i] = a;
        }
        return s;
    }
}
