package io.strata.kernels.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * y = diag(scales) Q x for a symmetric per-row quantised weight: Q is int8, row-major [out][in], and row o's
 * real values are {@code scales[o] * Q[o][i]}.
 */
public final class Int8MatVec {
    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Byte> BS = VectorShape.forBitSize(FS.length() * 8).withLanes(byte.class);
    private static final int L = FS.length();

    private Int8MatVec() {
    }

    /** Vector path. */
    public static void apply(MemorySegment q, float[] scales, int out, int in, float[] x, float[] y) {
        check(q, scales, out, in, x, y);
        float[] lanes = new float[L];
        for (int o = 0; o < out; o++) {
            long base = (long) o * in;
            FloatVector a0 = FloatVector.zero(FS);
            FloatVector a1 = a0;
            int i = 0;
            for (; i <= in - 2 * L; i += 2 * L) {
                FloatVector w0 = (FloatVector) ByteVector.fromMemorySegment(BS, q, base + i, java.nio.ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.B2F, FS, 0);
                FloatVector w1 = (FloatVector) ByteVector.fromMemorySegment(BS, q, base + i + L, java.nio.ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.B2F, FS, 0);
                a0 = w0.fma(FloatVector.fromArray(FS, x, i), a0);
                a1 = w1.fma(FloatVector.fromArray(FS, x, i + L), a1);
            }
            for (; i <= in - L; i += L) {
                FloatVector w0 = (FloatVector) ByteVector.fromMemorySegment(BS, q, base + i, java.nio.ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.B2F, FS, 0);
                a0 = w0.fma(FloatVector.fromArray(FS, x, i), a0);
            }
            float s = Lanes.sum(a0.add(a1), lanes);
            for (; i < in; i++) {
                s += q.get(ValueLayout.JAVA_BYTE, base + i) * x[i];
            }
            y[o] = s * scales[o];
        }
    }

    /** Reference path. */
    public static void applyScalar(MemorySegment q, float[] scales, int out, int in, float[] x, float[] y) {
        check(q, scales, out, in, x, y);
        for (int o = 0; o < out; o++) {
            float s = 0f;
            for (int i = 0; i < in; i++) {
                s += q.get(ValueLayout.JAVA_BYTE, (long) o * in + i) * x[i];
            }
            y[o] = s * scales[o];
        }
    }

    /** Symmetric per-row quantisation (scale = max|row| / 127), the inverse of what {@link #apply} reads. */
    public static float[] quantize(float[] w, int out, int in, MemorySegment q) {
        float[] scales = new float[out];
        for (int o = 0; o < out; o++) {
            float max = 0f;
            for (int i = 0; i < in; i++) {
                max = Math.max(max, Math.abs(w[o * in + i]));
            }
            float scale = max == 0f ? 1f : max / 127f;
            scales[o] = scale;
            for (int i = 0; i < in; i++) {
                q.set(ValueLayout.JAVA_BYTE, (long) o * in + i, (byte) Math.round(w[o * in + i] / scale));
            }
        }
        return scales;
    }

    private static void check(MemorySegment q, float[] scales, int out, int in, float[] x, float[] y) {
        if (q.byteSize() < (long) out * in || scales.length < out || x.length < in || y.length < out) {
            throw new IllegalArgumentException("int8 matvec: " + out + "x" + in + " needs " + ((long) out * in)
                    + " bytes (have " + q.byteSize() + "), " + out + " scales (have " + scales.length + "), input "
                    + in + " (have " + x.length + "), output " + out + " (have " + y.length + ")");
        }
    }
}
