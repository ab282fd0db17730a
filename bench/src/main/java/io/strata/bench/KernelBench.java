package io.strata.bench;

import io.strata.core.model.DType;
import io.strata.core.model.Layout;
import io.strata.core.weights.TensorView;
import io.strata.kernels.cpu.FloatCodec;
import io.strata.kernels.cpu.MatVec;
import io.strata.kernels.decoder.DecoderOptions;
import io.strata.kernels.decoder.MoeDecoder;
import io.strata.kernels.decoder.Sampler;
import io.strata.kernels.decoder.Sequence;
import io.strata.kernels.decoder.SyntheticMoeModel;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Single-threaded matvec over one Mixtral-8x7B expert projection slice: 1024 output rows of w1/w3 (in = hidden =
 * 4096), i.e. a quarter of a 4-way TP slice's rows, 16 MiB as F32 and 8 MiB as BF16. Compares the Vector API
 * kernel with the scalar reference in the same run, for both layouts. Run with
 * {@code java --add-modules=jdk.incubator.vector -cp 'bench/target/lib/*' org.openjdk.jmh.Main KernelBench}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class KernelBench {
    @Param({"F32", "BF16"})
    public String dtype;

    @Param({"ROW", "COLUMN"})
    public String layout;

    @Param({"1024"})
    public int rows;

    @Param({"4096"})
    public int cols;

    private Arena arena;
    private TensorView weight;
    private float[] x;
    private float[] y;

    @Setup(Level.Trial)
    public void setup() {
        DType t = DType.valueOf(dtype);
        arena = Arena.ofShared();
        MemorySegment seg = arena.allocate((long) rows * cols * t.byteSize(), 4096);
        SplittableRandom rnd = new SplittableRandom(1);
        for (long i = 0; i < (long) rows * cols; i++) {
            FloatCodec.set(seg, t, i, (float) (rnd.nextDouble() - 0.5) * 0.05f);
        }
        weight = new TensorView("bench", seg, t, new long[] {rows, cols}, Layout.valueOf(layout));
        x = new float[cols];
        for (int i = 0; i < cols; i++) {
            x[i] = (float) rnd.nextDouble() - 0.5f;
        }
        y = new float[rows];
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public float[] vector() {
        MatVec.vector().apply(weight, x, y);
        return y;
    }

    @Benchmark
    public float[] scalar() {
        MatVec.scalar().apply(weight, x, y);
        return y;
    }

    /**
     * One decode step (a token through every layer, two experts per layer, KV cache growing) of a synthetic
     * Mixtral-proportioned BF16 model (hidden 512, 4 layers, 8 experts of 512x1792, vocab 32000; about 240 MB),
     * single-threaded, vector vs scalar kernels. Score = time per generated token.
     */
    @State(Scope.Thread)
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Warmup(iterations = 3, time = 2)
    @Measurement(iterations = 3, time = 2)
    @Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-Xmx1g"})
    public static class Decode {
        @Param({"true", "false"})
        public boolean vectorKernels;

        private SyntheticMoeModel model;
        private MoeDecoder decoder;
        private Sequence sequence;
        private int token;

        @Setup(Level.Trial)
        public void setup() {
            model = SyntheticMoeModel.generate(SyntheticMoeModel.Shape.mixtralLike(DType.BF16, 512, 4), 1);
            decoder = new MoeDecoder(model.source(), DecoderOptions.defaults().withThreads(1)
                    .withVectorKernels(vectorKernels).withSpeculativePrefetch(false));
        }

        @Setup(Level.Iteration)
        public void newSequence() {
            sequence = decoder.newSequence();
            for (int t = 0; t < 16; t++) {
                sequence.forward(100 + t);
            }
            token = 7;
        }

        @TearDown(Level.Iteration)
        public void closeSequence() {
            sequence.close();
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            model.close();
        }

        @Benchmark
        public int decodeStep() {
            float[] logits = sequence.forward(token);
            token = Sampler.greedy().sample(logits);
            return token;
        }
    }
}
