package io.strata.storage.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.core.manifest.Manifest;
import io.strata.core.manifest.TensorInfo;
import io.strata.core.model.DType;
import io.strata.core.model.Layout;
import io.strata.storage.model.ConvertedModel;
import io.strata.storage.model.ModelVerifier;
import io.strata.storage.safetensors.Checkpoint;
import io.strata.storage.safetensors.SafetensorsTensor;
import io.strata.storage.synth.SyntheticCheckpoint;
import io.strata.storage.synth.SyntheticCheckpoint.Fused;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/**
 * Checkpoints with fused expert tensors (Hugging Face's {@code experts.gate_up_proj [E, 2ff, H]} and GPT-OSS's
 * interleaved {@code [E, H, 2ff]}), written by {@link SyntheticCheckpoint}, converted: every per-expert w1/w3/w2
 * equals the slice this test cuts out of the fused tensor element by element (gate/up halves or even/odd
 * columns, transposed where the layout is {@code x @ W}), in every stored layout and TP cut.
 */
class FusedExpertsTest {
    private static final int E = 4;
    private static final int H = 64;
    private static final int FF = 96;

    @TempDir
    Path tmp;

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of(Fused.HF, DType.F32, Layout.ROW, 1),
                Arguments.of(Fused.HF, DType.BF16, Layout.COLUMN, 2),
                Arguments.of(Fused.GPT_OSS, DType.F32, Layout.ROW, 1),
                Arguments.of(Fused.GPT_OSS, DType.BF16, Layout.ROW, 2),
                Arguments.of(Fused.GPT_OSS, DType.F16, Layout.COLUMN, 1),
                Arguments.of(Fused.GPT_OSS, DType.F32, Layout.COLUMN, 2));
    }

    /** Element (r, c) of expert e's canonical [out, in] projection, from the fused tensors' raw bytes. */
    private static byte[] canonical(Fused f, byte[] gateUp, byte[] down, int e, String proj, int es) {
        int rows = proj.equals("w2") ? H : FF;
        int cols = proj.equals("w2") ? FF : H;
        byte[] out = new byte[rows * cols * es];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                long src; // element index into the fused tensor
                byte[] from = proj.equals("w2") ? down : gateUp;
                if (f == Fused.HF) {
                    src = switch (proj) {
                        case "w1" -> ((long) e * 2 * FF + r) * H + c;          // gate_up[e][r][c]
                        case "w3" -> ((long) e * 2 * FF + FF + r) * H + c;     // gate_up[e][ff + r][c]
                        default -> ((long) e * H + r) * FF + c;                 // down[e][r][c]
                    };
                } else {
                    src = switch (proj) {
                        case "w1" -> ((long) e * H + c) * 2 * FF + 2L * r;     // gate_up[e][c][2r]
                        case "w3" -> ((long) e * H + c) * 2 * FF + 2L * r + 1; // gate_up[e][c][2r + 1]
                        default -> ((long) e * FF + c) * H + r;                 // down[e][c][r]
                    };
                }
                System.arraycopy(from, (int) (src * es), out, (r * cols + c) * es, es);
            }
        }
        return out;
    }

    @ParameterizedTest
    @MethodSource("cases")
    void everyExpertEqualsItsSliceOfTheFusedTensors(Fused f, DType dt, Layout layout, int tp) throws Exception {
        Path src = tmp.resolve("src");
        SyntheticCheckpoint.builder().fused(f).dtype(dt).hidden(H).intermediate(FF).experts(E).layers(2).seed(5)
                .write(src);
        Path out = tmp.resolve("out");
        ShardConverter.convert(src, out, ConvertOptions.defaults().withLayout(layout, tp).withShardSize(64 << 10)
                .withChunkSize(16 << 10), ProgressListener.NONE);
        String block = f == Fused.GPT_OSS ? "mlp" : "block_sparse_moe";
        int es = dt.byteSize();
        try (Checkpoint ckpt = Checkpoint.open(src); ConvertedModel model = ConvertedModel.open(out)) {
            Manifest m = model.manifest();
            assertEquals(2 * E, m.groups().size(), "one group per expert");
            for (int l = 0; l < 2; l++) {
                String p = "model.layers." + l + "." + block + ".experts.";
                assertFalse(m.tensors().containsKey(p + "gate_up_proj"), "the fused tensor is not stored");
                assertFalse(m.tensors().containsKey(p + "down_proj"));
                byte[] gu = ckpt.tensor(p + "gate_up_proj").data().toArray(ValueLayout.JAVA_BYTE);
                byte[] dn = ckpt.tensor(p + "down_proj").data().toArray(ValueLayout.JAVA_BYTE);
                for (int e = 0; e < E; e++) {
                    for (String proj : List.of("w1", "w3", "w2")) {
                        String hfProj = f == Fused.GPT_OSS
                                ? switch (proj) {
                                    case "w1" -> "gate_proj";
                                    case "w3" -> "up_proj";
                                    default -> "down_proj";
                                } : proj;
                        String name = p + e + "." + hfProj + ".weight";
                        byte[] want = canonical(f, gu, dn, e, proj, es);
                        long[] shape = proj.equals("w2") ? new long[]{H, FF} : new long[]{FF, H};
                        List<TensorInfo> entries = m.tensors().get(name);
                        assertEquals(tp, entries.size(), name);
                        for (int i = 0; i < entries.size(); i++) {
                            TensorInfo ti = entries.get(i);
                            assertEquals(dt, ti.dtype());
                            assertEquals("expert." + l + "." + e, ti.group());
                            assertArrayEquals(RoundTrip.expected(want, shape, ti, es),
                                    model.tensorSlice(name, i).toArray(ValueLayout.JAVA_BYTE), name + " slice " + i);
                        }
                    }
                }
                if (f == Fused.GPT_OSS) {
                    SafetensorsTensor bias = ckpt.tensor(p + "gate_up_proj_bias");
                    // kept whole, as any 2-D tensor (transposed under --layout column like the rest)
                    assertArrayEquals(RoundTrip.expected(bias.data().toArray(ValueLayout.JAVA_BYTE), bias.shape(),
                                    model.tensorInfo(p + "gate_up_proj_bias", 0), es),
                            model.tensor(p + "gate_up_proj_bias").toArray(ValueLayout.JAVA_BYTE), "bias");
                }
            }
            assertEquals(E, m.moeConfig().numExperts());
        }
        assertTrue(ModelVerifier.verify(out, n -> { }).ok());
    }

    @Test
    void aFusedLayerThatDoesNotFitIsRefusedNamingTheTensor() throws Exception {
        Path src = tmp.resolve("src");
        SyntheticCheckpoint.builder().fused(Fused.HF).hidden(H).intermediate(FF).experts(E).layers(1).shards(1)
                .write(src);
        // claim GPT-OSS: the HF shapes [E, 2ff, H] / [E, H, ff] do not fit [E, H, 2ff] / [E, ff, H]
        Path cfg = src.resolve("config.json");
        Files.writeString(cfg, Files.readString(cfg).replace("\"mixtral\"", "\"gpt_oss\""));
        Path out = tmp.resolve("out");
        var e = assertThrows(ConvertException.class,
                () -> ShardConverter.convert(src, out, ConvertOptions.defaults(), ProgressListener.NONE));
        assertTrue(e.getMessage().startsWith(src.resolve("model.safetensors").toAbsolutePath() + ": tensor 'model.layers.0."),
                e.getMessage());
        assertTrue(e.getMessage().contains("GPT-OSS layout"), e.getMessage());
        assertFalse(Files.exists(out));
    }
}
