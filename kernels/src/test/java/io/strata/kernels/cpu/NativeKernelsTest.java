package io.strata.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.strata.core.model.DType;
import io.strata.core.model.Layout;
import io.strata.core.weights.TensorView;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The native row kernels against the Java Vector API kernels they twin: bit for bit, on shapes that exercise
 * every loop of both (cols that are not a multiple of the vector blocks, scalar tails, one row, odd row ranges,
 * unaligned weights, heap-backed weights) and on values spread over many binades so that any reordered or fused
 * operation would show. And the switch: {@code -Dstrata.kernels=java} runs Java, in a JVM of its own.
 */
class NativeKernelsTest {
    // 1090 and 4098: rows of several 32-block segments, so a batch holds several row tiles through its segments
    private static final int[] COLS = {2, 6, 16, 30, 32, 34, 62, 64, 66, 96, 126, 128, 130, 192, 250, 1000, 1026,
        1090, 4098};
    private static final int[] ROWS = {1, 2, 3, 7, 64};
    private boolean before;

    @BeforeEach
    void requireNative() {
        assumeTrue(NativeKernels.available(), "native kernels unavailable: " + NativeKernels.UNAVAILABLE);
        before = NativeKernels.enabled;
    }

    @AfterEach
    void restore() {
        if (NativeKernels.available()) {
            NativeKernels.enabled = before;
        }
    }

    /** A weight of random values over many binades, at byte offset {@code skew} of its segment. */
    private static TensorView weight(Arena arena, Random rnd, DType t, int rows, int cols, int skew, boolean heap) {
        long bytes = (long) rows * cols * t.byteSize();
        MemorySegment whole = heap ? MemorySegment.ofArray(new byte[(int) bytes + skew])
                : arena.allocate(bytes + skew, 64);
        MemorySegment seg = whole.asSlice(skew, bytes);
        float range = t == DType.F16 ? 14f : 30f;
        for (long i = 0; i < (long) rows * cols; i++) {
            float v = (float) (rnd.nextGaussian() * Math.pow(2, rnd.nextFloat() * range - range / 2));
            FloatCodec.set(seg, t, i, v);
        }
        return new TensorView("w", seg, t, new long[] {rows, cols}, Layout.ROW);
    }

    private static float[] input(Random rnd, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (rnd.nextGaussian() * Math.pow(2, rnd.nextInt(20) - 10));
        }
        return x;
    }

    /**
     * Runs {@code call} on a fresh output three times: natively, the first call stages the output through the
     * thread's buffer (an array seen once), the third writes it in place (a cached array); both must agree.
     */
    private static float[] run(boolean nat, java.util.function.Consumer<float[]> call, int n) {
        NativeKernels.enabled = nat;
        float[] y = new float[n];
        float[] first = null;
        for (int k = 0; k < 3; k++) {
            Arrays.fill(y, Float.NaN);
            call.accept(y);
            if (k == 0) {
                first = y.clone();
            }
        }
        assertBits(first, y, "first and third call");
        return y;
    }

    private static float[] concat(float[] a, float[] b) {
        float[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    private static void assertBits(float[] want, float[] got, String what) {
        for (int i = 0; i < want.length; i++) {
            if (Float.floatToRawIntBits(want[i]) != Float.floatToRawIntBits(got[i])) {
                throw new AssertionError(what + ": output " + i + " is " + got[i] + " natively, " + want[i]
                        + " in Java");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void rowKernelsMatchJavaBitForBit(DType t) {
        MatVec mv = VectorMatVec.INSTANCE;
        Random rnd = new Random(t.ordinal() * 31L + 7);
        int checked = 0;
        try (Arena arena = Arena.ofConfined()) {
            for (int cols : COLS) {
                for (int rows : ROWS) {
                    int skew = t == DType.F32 ? 4 * (rows % 3) : 2 * (rows % 3);
                    TensorView w = weight(arena, rnd, t, rows, cols, skew, rows == 3);
                    TensorView w3 = weight(arena, rnd, t, rows, cols, 0, false);
                    int xOff = cols % 5;
                    float[] x = input(rnd, cols + xOff + 3);
                    int[][] ranges = {{0, rows}, {rows / 2, rows}, {rows - 1, rows}, {0, (rows + 1) / 2},
                        {Math.min(1, rows - 1), Math.max(1, rows - 1)}};
                    for (int[] r : ranges) {
                        String what = t + " " + rows + "x" + cols + " rows [" + r[0] + ", " + r[1] + ")";
                        int yOff = 1;
                        java.util.function.Consumer<float[]> one = y -> mv.apply(w, x, xOff, y, yOff, r[0], r[1]);
                        assertBits(run(false, one, rows + 2), run(true, one, rows + 2), what);
                        float[][] gu = new float[4][];
                        for (int k = 0; k < 2; k++) {
                            boolean nat = k == 1;
                            float[] gate = run(nat, g -> { }, rows + 1);
                            float[] up = new float[rows + 2];
                            mv.applyGateUp(w, w3, x, xOff, gate, 1, up, 2, r[0], r[1]);
                            gu[2 * k] = gate;
                            gu[2 * k + 1] = up;
                        }
                        assertBits(gu[0], gu[2], what + " gate");
                        assertBits(gu[1], gu[3], what + " up");
                        checked++;
                    }
                    // batches: natively the 4 rows x 6 inputs tiles (partial tiles of rows and of inputs here),
                    // in Java bf16Quad and the row kernels; the first call of run() stages (Java), the third is native
                    for (int count : new int[] {2, 3, 5, 9, 13}) {
                        float[] xs = input(rnd, count * cols + 1);
                        int n = count;
                        java.util.function.Consumer<float[]> batch = y -> mv.applyBatch(w, xs, 1, cols, n, y, 1,
                                rows + 1, 0, rows);
                        String what = t + " batch of " + count + ", " + rows + "x" + cols;
                        assertBits(run(false, batch, count * (rows + 1) + 1), run(true, batch,
                                count * (rows + 1) + 1), what);
                        float[][] gu = new float[2][];
                        for (int k = 0; k < 2; k++) {
                            float[] up = new float[count * (rows + 1) + 1];
                            gu[k] = run(k == 1, g -> mv.applyGateUpBatch(w, w3, xs, 1, cols, n, g, up, 1, rows + 1,
                                    0, rows), count * (rows + 1) + 1);
                            gu[k] = concat(gu[k], up);
                        }
                        assertBits(gu[0], gu[1], what + " gate/up");
                    }
                }
            }
        }
        assertTrue(checked > 0);
    }

    @Test
    void parallelNativeMatchesSingleThreadedJava() {
        Random rnd = new Random(5);
        try (Arena arena = Arena.ofShared()) {
            for (DType t : new DType[] {DType.BF16, DType.F16, DType.F32}) {
                TensorView w = weight(arena, rnd, t, 1000, 1030, 0, false);
                TensorView w3 = weight(arena, rnd, t, 1000, 1030, 0, false);
                float[] x = input(rnd, 1030);
                MatVec par = MatVec.vector(2);
                float[] want = run(false, y -> VectorMatVec.INSTANCE.apply(w, x, 0, y, 0, 0, 1000), 1000);
                float[] got = run(true, y -> par.apply(w, x, 0, y, 0, 0, 1000), 1000);
                assertBits(want, got, t + " over two threads");
                float[] wantUp = new float[1000];
                float[] gotUp = new float[1000];
                float[] wantGate = run(false, g -> VectorMatVec.INSTANCE.applyGateUp(w, w3, x, 0, g, 0, wantUp, 0, 0,
                        1000), 1000);
                float[] gotGate = run(true, g -> par.applyGateUp(w, w3, x, 0, g, 0, gotUp, 0, 0, 1000), 1000);
                assertBits(wantGate, gotGate, t + " gate over two threads");
                assertBits(wantUp, gotUp, t + " up over two threads");
            }
        }
    }

    @Test
    void aNativeCallAllocatesNothing() {
        var mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        Random rnd = new Random(9);
        try (Arena arena = Arena.ofConfined()) {
            TensorView w = weight(arena, rnd, DType.BF16, 64, 256, 0, false);
            TensorView f = weight(arena, rnd, DType.F32, 64, 256, 0, false);
            float[] x = input(rnd, 256);
            float[] y = new float[64];
            float[] up = new float[64];
            NativeKernels.enabled = true;
            long per = Long.MAX_VALUE;
            for (int round = 0; round < 200 && per > 0; round++) {
                long b = mx.getCurrentThreadAllocatedBytes();
                for (int i = 0; i < 1000; i++) {
                    VectorMatVec.INSTANCE.apply(w, x, 0, y, 0, 0, 64);
                    VectorMatVec.INSTANCE.apply(f, x, 0, y, 0, 0, 64);
                    VectorMatVec.INSTANCE.applyGateUp(w, w, x, 0, y, 0, up, 0, 0, 64);
                }
                per = (mx.getCurrentThreadAllocatedBytes() - b) / 1000;
            }
            assertEquals(0, per, "bytes allocated per three native matvecs");
        }
    }

    /** The switch is read at startup: a JVM started with -Dstrata.kernels=java runs Java even where native can. */
    @Test
    void propertyJavaSelectsTheJavaKernels() throws IOException, InterruptedException {
        assertEquals("JAVA", probe("java"));
        assertEquals("NATIVE", probe("native"));
        assertEquals("NATIVE", probe("auto"));
    }

    private static String probe(String mode) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Dstrata.kernels=" + mode,
                "-cp", System.getProperty("java.class.path"), Probe.class.getName()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        String[] lines = out.strip().split("\n");
        return lines[lines.length - 1].strip();
    }

    /** Prints which kernels a fresh JVM runs (after one matvec, so the choice has been made and used). */
    static final class Probe {
        public static void main(String[] args) {
            TensorView w = new TensorView("w", MemorySegment.ofArray(new byte[64 * 64 * 2]), DType.BF16,
                    new long[] {64, 64}, Layout.ROW);
            MatVec.vector().apply(w, new float[64], new float[64]);
            System.out.println(CpuKernels.active());
        }
    }
}
