package io.strata.kernels.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Small vector helpers over native-order float32 segments (KV pages) and float arrays. Results depend only on
 * the element count, never on where the data sits, so a page's placement cannot change a sum.
 */
public final class VecMath {
    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    private static final int L = FS.length();
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private VecMath() {
    }

    /** sum_i a[aOff+i] * seg[segIndex+i] (segIndex in floats). */
    public static float dot(float[] a, int aOff, MemorySegment seg, long segIndex, int n) {
        return dot(a, aOff, seg, segIndex, n, new float[L]);
    }

    /** As {@link #dot(float[], int, MemorySegment, long, int)} with caller-owned scratch of {@link #lanes()} floats. */
    public static float dot(float[] a, int aOff, MemorySegment seg, long segIndex, int n, float[] scratch) {
        FloatVector acc = FloatVector.zero(FS);
        int i = 0;
        for (; i <= n - L; i += L) {
            acc = FloatVector.fromMemorySegment(FS, seg, (segIndex + i) * 4, NATIVE)
                    .fma(FloatVector.fromArray(FS, a, aOff + i), acc);
        }
        float s = Lanes.sum(acc, scratch);
        for (; i < n; i++) {
            s += a[aOff + i] * seg.getAtIndex(F32, segIndex + i);
        }
        return s;
    }

    /**
     * Four {@link #dot(float[], int, MemorySegment, long, int, float[])}s of one segment row against a[aOff + j *
     * aStride ..] (j = 0..3), into out[0..3]: each with exactly dot's operations, the four chains interleaved so
     * each segment load serves four (the query heads sharing a KV head) and the chains' latencies overlap.
     */
    public static void dot4(float[] a, int aOff, int aStride, MemorySegment seg, long segIndex, int n, float[] out,
                            float[] scratch) {
        FloatVector c0 = FloatVector.zero(FS);
        FloatVector c1 = c0;
        FloatVector c2 = c0;
        FloatVector c3 = c0;
        int a1 = aOff + aStride;
        int a2 = a1 + aStride;
        int a3 = a2 + aStride;
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector k = FloatVector.fromMemorySegment(FS, seg, (segIndex + i) * 4, NATIVE);
            c0 = k.fma(FloatVector.fromArray(FS, a, aOff + i), c0);
            c1 = k.fma(FloatVector.fromArray(FS, a, a1 + i), c1);
            c2 = k.fma(FloatVector.fromArray(FS, a, a2 + i), c2);
            c3 = k.fma(FloatVector.fromArray(FS, a, a3 + i), c3);
        }
        float s0 = Lanes.sum(c0, scratch);
        float s1 = Lanes.sum(c1, scratch);
        float s2 = Lanes.sum(c2, scratch);
        float s3 = Lanes.sum(c3, scratch);
        for (; i < n; i++) {
            float k = seg.getAtIndex(F32, segIndex + i);
            s0 += a[aOff + i] * k;
            s1 += a[a1 + i] * k;
            s2 += a[a2 + i] * k;
            s3 += a[a3 + i] * k;
        }
        out[0] = s0;
        out[1] = s1;
        out[2] = s2;
        out[3] = s3;
    }

    /**
     * Four {@link #axpy(float, MemorySegment, long, float[], int, int)}s of one segment row: y[yOff + j * yStride
     * + i] += alpha[aOff + j * aStride] * seg[segIndex + i] (j = 0..3), each with exactly axpy's operations, every
     * segment load serving the four.
     */
    public static void axpy4(float[] alpha, int aOff, int aStride, MemorySegment seg, long segIndex, float[] y,
                             int yOff, int yStride, int n) {
        float w0 = alpha[aOff];
        float w1 = alpha[aOff + aStride];
        float w2 = alpha[aOff + 2 * aStride];
        float w3 = alpha[aOff + 3 * aStride];
        FloatVector b0 = FloatVector.broadcast(FS, w0);
        FloatVector b1 = FloatVector.broadcast(FS, w1);
        FloatVector b2 = FloatVector.broadcast(FS, w2);
        FloatVector b3 = FloatVector.broadcast(FS, w3);
        int y1 = yOff + yStride;
        int y2 = y1 + yStride;
        int y3 = y2 + yStride;
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector v = FloatVector.fromMemorySegment(FS, seg, (segIndex + i) * 4, NATIVE);
            v.fma(b0, FloatVector.fromArray(FS, y, yOff + i)).intoArray(y, yOff + i);
            v.fma(b1, FloatVector.fromArray(FS, y, y1 + i)).intoArray(y, y1 + i);
            v.fma(b2, FloatVector.fromArray(FS, y, y2 + i)).intoArray(y, y2 + i);
            v.fma(b3, FloatVector.fromArray(FS, y, y3 + i)).intoArray(y, y3 + i);
        }
        for (; i < n; i++) {
            float v = seg.getAtIndex(F32, segIndex + i);
            y[yOff + i] = Math.fma(w0, v, y[yOff + i]);
            y[y1 + i] = Math.fma(w1, v, y[y1 + i]);
            y[y2 + i] = Math.fma(w2, v, y[y2 + i]);
            y[y3 + i] = Math.fma(w3, v, y[y3 + i]);
        }
    }

    /** Scratch size the scratch-taking methods need. */
    public static int lanes() {
        return L;
    }

    public static float dotScalar(float[] a, int aOff, MemorySegment seg, long segIndex, int n) {
        float s = 0f;
        for (int i = 0; i < n; i++) {
            s += a[aOff + i] * seg.getAtIndex(F32, segIndex + i);
        }
        return s;
    }

    /** y[yOff+i] += alpha * seg[segIndex+i]. */
    public static void axpy(float alpha, MemorySegment seg, long segIndex, float[] y, int yOff, int n) {
        FloatVector a = FloatVector.broadcast(FS, alpha);
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromMemorySegment(FS, seg, (segIndex + i) * 4, NATIVE)
                    .fma(a, FloatVector.fromArray(FS, y, yOff + i)).intoArray(y, yOff + i);
        }
        for (; i < n; i++) {
            y[yOff + i] = Math.fma(alpha, seg.getAtIndex(F32, segIndex + i), y[yOff + i]);
        }
    }

    public static void axpyScalar(float alpha, MemorySegment seg, long segIndex, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) {
            y[yOff + i] += alpha * seg.getAtIndex(F32, segIndex + i);
        }
    }

    /** y[i] += alpha * x[i]. */
    public static void axpy(float alpha, float[] x, float[] y, int n) {
        axpy(alpha, x, 0, y, 0, n);
    }

    /** y[yOff + i] += alpha * x[xOff + i] (fused; the same bits wherever the vectors sit). */
    public static void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        FloatVector a = FloatVector.broadcast(FS, alpha);
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromArray(FS, x, xOff + i).fma(a, FloatVector.fromArray(FS, y, yOff + i))
                    .intoArray(y, yOff + i);
        }
        for (; i < n; i++) {
            y[yOff + i] = Math.fma(alpha, x[xOff + i], y[yOff + i]);
        }
    }

    /** y[i] += x[i]. */
    public static void add(float[] x, float[] y, int n) {
        add(x, 0, y, 0, n);
    }

    /** y[yOff + i] += x[xOff + i]. */
    public static void add(float[] x, int xOff, float[] y, int yOff, int n) {
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromArray(FS, x, xOff + i).add(FloatVector.fromArray(FS, y, yOff + i)).intoArray(y, yOff + i);
        }
        for (; i < n; i++) {
            y[yOff + i] += x[xOff + i];
        }
    }
}
