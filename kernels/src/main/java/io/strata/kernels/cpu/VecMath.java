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
