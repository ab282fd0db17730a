package io.strata.kernels.cuda;

import io.strata.nativeaccess.cuda.CudaDevice;
import io.strata.nativeaccess.cuda.CudaDriver;
import io.strata.nativeaccess.cuda.CudaEvent;
import io.strata.nativeaccess.cuda.CudaStream;
import io.strata.nativeaccess.cuda.DeviceBuffer;
import io.strata.nativeaccess.cuda.PinnedHostBuffer;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.strata.core.model.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The PTX kernels against a scalar double-precision reference computed here, on a real GPU; skipped (with the
 * reason) without one. Shapes are deliberately not multiples of the warp or block size.
 */
class CudaKernelsTest {
    private static final int ROWS = 1001;
    private static final int COLS = 777;

    private static CudaDevice device;
    private static CudaKernels kernels;

    @BeforeAll
    static void load() {
        assumeTrue(CudaDriver.load().isPresent(), () -> "no CUDA: " + CudaDriver.availability().reason());
        device = CudaDevice.openDefault().orElseThrow();
        kernels = CudaKernels.load(device);
    }

    @AfterAll
    static void close() {
        if (device != null) {
            device.close();
        }
    }

    private static float[] randoms(int n, long seed) {
        Random r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian() * 0.1f;
        }
        return v;
    }

    /** BF16 by truncation, and the float each BF16 value stands for (the reference's input). */
    private static short[] toBf16(float[] v) {
        short[] b = new short[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = (short) (Float.floatToRawIntBits(v[i]) >>> 16);
        }
        return b;
    }

    private static float[] fromBf16(short[] b) {
        float[] v = new float[b.length];
        for (int i = 0; i < b.length; i++) {
            v[i] = Float.intBitsToFloat((b[i] & 0xffff) << 16);
        }
        return v;
    }

    private static double[] matvec(float[] w, float[] x, int rows, int cols) {
        double[] y = new double[rows];
        for (int r = 0; r < rows; r++) {
            double s = 0;
            for (int c = 0; c < cols; c++) {
                s += (double) w[r * cols + c] * x[c];
            }
            y[r] = s;
        }
        return y;
    }

    private static double silu(double v) {
        return v / (1 + Math.exp(-v));
    }

    private static void assertClose(double[] expected, float[] actual, double tolerance) {
        for (int i = 0; i < expected.length; i++) {
            double err = Math.abs(expected[i] - actual[i]);
            assertTrue(err <= tolerance * (1 + Math.abs(expected[i])),
                    "element " + i + ": expected " + expected[i] + ", got " + actual[i]);
        }
    }

    private static DeviceBuffer upload(float[] v) {
        try (Arena a = Arena.ofConfined()) {
            DeviceBuffer b = device.allocate((long) v.length * 4);
            b.copyFrom(0, a.allocateFrom(JAVA_FLOAT, v));
            return b;
        }
    }

    private static DeviceBuffer upload(short[] v) {
        try (Arena a = Arena.ofConfined()) {
            DeviceBuffer b = device.allocate((long) v.length * 2);
            b.copyFrom(0, a.allocateFrom(JAVA_SHORT, v));
            return b;
        }
    }

    private static float[] download(DeviceBuffer b, int n) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_FLOAT, n);
            b.copyTo(0, out);
            return out.toArray(JAVA_FLOAT);
        }
    }

    @Test
    void matvecF32MatchesTheReference() {
        float[] w = randoms(ROWS * COLS, 1);
        float[] x = randoms(COLS, 2);
        try (DeviceBuffer dw = upload(w); DeviceBuffer dx = upload(x); DeviceBuffer dy = device.allocate(ROWS * 4L);
             CudaStream s = device.createStream()) {
            kernels.matvec(DType.F32, dw.whole(), dx.whole(), dy.whole(), ROWS, COLS, s);
            s.synchronize();
            assertClose(matvec(w, x, ROWS, COLS), download(dy, ROWS), 1e-5);
        }
    }

    @Test
    void matvecBf16MatchesTheReferenceOnTheSameBf16Values() {
        short[] w = toBf16(randoms(ROWS * COLS, 3));
        float[] x = randoms(COLS, 4);
        try (DeviceBuffer dw = upload(w); DeviceBuffer dx = upload(x); DeviceBuffer dy = device.allocate(ROWS * 4L);
             CudaStream s = device.createStream()) {
            kernels.matvec(DType.BF16, dw.whole(), dx.whole(), dy.whole(), ROWS, COLS, s);
            s.synchronize();
            assertClose(matvec(fromBf16(w), x, ROWS, COLS), download(dy, ROWS), 1e-5);
        }
    }

    @Test
    void swigluF32AndBf16MatchTheReference() {
        float[] w1 = randoms(ROWS * COLS, 5);
        float[] w3 = randoms(ROWS * COLS, 6);
        float[] x = randoms(COLS, 7);
        double[] g = matvec(w1, x, ROWS, COLS);
        double[] u = matvec(w3, x, ROWS, COLS);
        double[] expected = new double[ROWS];
        for (int r = 0; r < ROWS; r++) {
            expected[r] = silu(g[r]) * u[r];
        }
        try (DeviceBuffer d1 = upload(w1); DeviceBuffer d3 = upload(w3); DeviceBuffer dx = upload(x);
             DeviceBuffer dh = device.allocate(ROWS * 4L); CudaStream s = device.createStream()) {
            kernels.swiglu(DType.F32, d1.whole(), d3.whole(), dx.whole(), dh.whole(), ROWS, COLS, s);
            s.synchronize();
            assertClose(expected, download(dh, ROWS), 1e-4);
        }
        short[] b1 = toBf16(w1);
        short[] b3 = toBf16(w3);
        double[] gb = matvec(fromBf16(b1), x, ROWS, COLS);
        double[] ub = matvec(fromBf16(b3), x, ROWS, COLS);
        for (int r = 0; r < ROWS; r++) {
            expected[r] = silu(gb[r]) * ub[r];
        }
        try (DeviceBuffer d1 = upload(b1); DeviceBuffer d3 = upload(b3); DeviceBuffer dx = upload(x);
             DeviceBuffer dh = device.allocate(ROWS * 4L); CudaStream s = device.createStream()) {
            kernels.swiglu(DType.BF16, d1.whole(), d3.whole(), dx.whole(), dh.whole(), ROWS, COLS, s);
            s.synchronize();
            assertClose(expected, download(dh, ROWS), 1e-4);
        }
    }

    /** A whole expert as one block (w1 | w3 | w2), uploaded on a copy stream while compute waits on an event. */
    @Test
    void anExpertUploadedOnACopyStreamComputesTheSwigluFfn() {
        int hidden = 96;
        int inter = 200;
        float[] w1 = randoms(inter * hidden, 8);
        float[] w3 = randoms(inter * hidden, 9);
        float[] w2 = randoms(hidden * inter, 10);
        float[] x = randoms(hidden, 11);
        long projBytes = (long) inter * hidden * 4;
        try (PinnedHostBuffer staging = device.allocatePinned(3 * projBytes);
             DeviceBuffer expert = device.allocate(3 * projBytes);
             DeviceBuffer dx = upload(x);
             DeviceBuffer dh = device.allocate(inter * 4L);
             DeviceBuffer dy = device.allocate(hidden * 4L);
             CudaStream copies = device.createStream();
             CudaStream compute = device.createStream();
             CudaEvent uploaded = device.createEvent(false)) {
            MemorySegment.copy(w1, 0, staging.segment(), JAVA_FLOAT, 0, w1.length);
            MemorySegment.copy(w3, 0, staging.segment(), JAVA_FLOAT, projBytes, w3.length);
            MemorySegment.copy(w2, 0, staging.segment(), JAVA_FLOAT, 2 * projBytes, w2.length);
            expert.copyFromAsync(0, staging.segment(), copies);
            uploaded.record(copies);
            compute.waitFor(uploaded);
            kernels.swiglu(DType.F32, expert.slice(0, projBytes), expert.slice(projBytes, projBytes), dx.whole(),
                    dh.whole(), inter, hidden, compute);
            kernels.matvec(DType.F32, expert.slice(2 * projBytes, projBytes), dh.whole(), dy.whole(), hidden,
                    inter, compute);
            compute.synchronize();

            double[] g = matvec(w1, x, inter, hidden);
            double[] u = matvec(w3, x, inter, hidden);
            float[] h = new float[inter];
            for (int r = 0; r < inter; r++) {
                h[r] = (float) (silu(g[r]) * u[r]);
            }
            assertClose(matvec(w2, h, hidden, inter), download(dy, hidden), 1e-4);
        }
    }

    @Test
    void undersizedOrMisalignedOperandsAreRejectedBeforeLaunch() {
        try (DeviceBuffer small = device.allocate(64); DeviceBuffer big = device.allocate(1 << 16);
             CudaStream s = device.createStream()) {
            assertThrows(IllegalArgumentException.class,
                    () -> kernels.matvec(DType.F32, small.whole(), big.whole(), big.whole(), 8, 8, s));
            assertThrows(IllegalArgumentException.class,
                    () -> kernels.matvec(DType.F32, big.slice(2, 1024), big.whole(), big.whole(), 8, 8, s));
            assertThrows(IllegalArgumentException.class,
                    () -> kernels.matvec(DType.I8, big.whole(), big.whole(), big.whole(), 8, 8, s));
            assertThrows(IllegalArgumentException.class,
                    () -> kernels.matvec(DType.F32, big.whole(), big.whole(), big.whole(), 0, 8, s));
        }
    }
}
