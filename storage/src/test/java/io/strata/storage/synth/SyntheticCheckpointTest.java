package io.strata.storage.synth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.core.model.DType;
import io.strata.core.model.ModelFamily;
import io.strata.storage.safetensors.Checkpoint;
import io.strata.storage.safetensors.SafetensorsTensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SyntheticCheckpointTest {
    @TempDir
    Path tmp;

    static float element(SafetensorsTensor t, long i) {
        MemorySegment s = t.data();
        return switch (t.dtype()) {
            case F32 -> s.get(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i * 4);
            case F16 -> Float.float16ToFloat(s.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i * 2));
            case BF16 -> Float.intBitsToFloat(
                    (s.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i * 2) & 0xFFFF) << 16);
            default -> throw new AssertionError(t.dtype());
        };
    }

    @Test
    void mixtralLayoutShapesAndIndexMatchTheFixtureConventions() throws Exception {
        var r = SyntheticCheckpoint.builder().shards(3).write(tmp.resolve("m"));
        assertEquals(3, r.files().size());
        assertTrue(Files.exists(tmp.resolve("m/model.safetensors.index.json")));
        try (Checkpoint c = Checkpoint.open(tmp.resolve("m"))) {
            assertEquals("mixtral", c.config().path("model_type").asText());
            assertEquals(4, c.config().path("num_local_experts").asInt());
            // 1 embed + 2 layers * (2 norms + 4 attn + gate + 4 experts * 3) + norm + lm_head
            assertEquals(1 + 2 * (2 + 4 + 1 + 12) + 2, c.tensors().size());
            assertArrayEquals(new long[]{128, 64}, c.tensor("model.layers.1.block_sparse_moe.experts.3.w1.weight").shape());
            assertArrayEquals(new long[]{64, 128}, c.tensor("model.layers.1.block_sparse_moe.experts.3.w2.weight").shape());
            assertArrayEquals(new long[]{32, 64}, c.tensor("model.layers.0.self_attn.k_proj.weight").shape());
            assertArrayEquals(new long[]{4, 64}, c.tensor("model.layers.0.block_sparse_moe.gate.weight").shape());
            assertEquals(r.tensorBytes(), c.totalBytes());
        }
    }

    @Test
    void qwen3NamingConfigAndSingleFile() throws Exception {
        SyntheticCheckpoint.builder().family(ModelFamily.QWEN3_MOE).dtype(DType.BF16).shards(1).experts(6).topK(2)
                .write(tmp.resolve("q"));
        assertTrue(Files.exists(tmp.resolve("q/model.safetensors")));
        assertFalse(Files.exists(tmp.resolve("q/model.safetensors.index.json")));
        try (Checkpoint c = Checkpoint.open(tmp.resolve("q"))) {
            assertEquals("qwen3_moe", c.config().path("model_type").asText());
            assertTrue(c.config().path("norm_topk_prob").asBoolean());
            assertEquals(6, c.config().path("num_experts").asInt());
            assertEquals(DType.BF16, c.tensor("model.layers.0.mlp.experts.5.down_proj.weight").dtype());
            assertArrayEquals(new long[]{16}, c.tensor("model.layers.1.self_attn.q_norm.weight").shape());
            assertArrayEquals(new long[]{6, 64}, c.tensor("model.layers.1.mlp.gate.weight").shape());
        }
    }

    @Test
    void sameSeedSameBytesOtherSeedOtherBytes() throws Exception {
        var b = SyntheticCheckpoint.builder().dtype(DType.F16).seed(7);
        var a1 = b.write(tmp.resolve("a1"));
        var a2 = b.write(tmp.resolve("a2"));
        var c = b.seed(8).write(tmp.resolve("c"));
        for (int i = 0; i < a1.files().size(); i++) {
            assertEquals(-1L, Files.mismatch(a1.files().get(i), a2.files().get(i)));
            assertTrue(Files.mismatch(a1.files().get(i), c.files().get(i)) >= 0);
        }
    }

    @Test
    void weightScaleIsOneOverSqrtInAndValuesFinite() throws Exception {
        for (DType d : new DType[]{DType.F32, DType.BF16, DType.F16}) {
            Path dir = tmp.resolve(d.name());
            SyntheticCheckpoint.builder().dtype(d).hidden(256).intermediate(512).write(dir);
            try (Checkpoint c = Checkpoint.open(dir)) {
                SafetensorsTensor w2 = c.tensor("model.layers.0.block_sparse_moe.experts.0.w2.weight");
                long n = w2.byteSize() / d.byteSize();
                double sum = 0;
                double sq = 0;
                for (long i = 0; i < n; i++) {
                    float v = element(w2, i);
                    assertTrue(Float.isFinite(v));
                    sum += v;
                    sq += v * v;
                }
                double std = Math.sqrt(sq / n - (sum / n) * (sum / n));
                assertEquals(1 / Math.sqrt(512), std, 0.05 / Math.sqrt(512), d + " std");
                SafetensorsTensor norm = c.tensor("model.norm.weight");
                for (long i = 0; i < 256; i++) {
                    assertEquals(1.0, element(norm, i), 0.1);
                }
            }
        }
    }

    /** Router logits of embedding rows: with skew the hot experts take most top-k slots, without they do not. */
    @Test
    void routerSkewConcentratesTopKOnFewExperts() throws Exception {
        double hotShareSkewed = topShare(1.0, tmp.resolve("skew"));
        double hotShareFlat = topShare(0.0, tmp.resolve("flat"));
        assertTrue(hotShareSkewed > 0.8, "skewed: the two most chosen experts take " + hotShareSkewed);
        assertTrue(hotShareFlat < 0.5, "flat: the two most chosen experts take " + hotShareFlat);
    }

    private static double topShare(double skew, Path dir) throws Exception {
        int experts = 8;
        SyntheticCheckpoint.builder().experts(experts).topK(2).vocab(512).hidden(128).layers(1).routerSkew(skew)
                .shards(1).write(dir);
        try (Checkpoint c = Checkpoint.open(dir)) {
            SafetensorsTensor emb = c.tensor("model.embed_tokens.weight");
            SafetensorsTensor gate = c.tensor("model.layers.0.block_sparse_moe.gate.weight");
            int h = 128;
            long[] picks = new long[experts];
            for (int tok = 0; tok < 512; tok++) {
                double rms = 0;
                for (int j = 0; j < h; j++) {
                    float v = element(emb, (long) tok * h + j);
                    rms += v * v;
                }
                rms = Math.sqrt(rms / h);
                double[] logits = new double[experts];
                for (int e = 0; e < experts; e++) {
                    for (int j = 0; j < h; j++) {
                        logits[e] += element(gate, (long) e * h + j) * element(emb, (long) tok * h + j) / rms;
                    }
                }
                Integer[] order = {0, 1, 2, 3, 4, 5, 6, 7};
                Arrays.sort(order, (x, y) -> Double.compare(logits[y], logits[x]));
                picks[order[0]]++;
                picks[order[1]]++;
            }
            long[] sorted = picks.clone();
            Arrays.sort(sorted);
            return (sorted[experts - 1] + sorted[experts - 2]) / (2.0 * 512);
        }
    }

    @Test
    void rejectsInconsistentShapes() {
        assertThrows(IllegalArgumentException.class,
                () -> SyntheticCheckpoint.builder().heads(6).kvHeads(4).write(tmp.resolve("x")));
        assertThrows(IllegalArgumentException.class, () -> SyntheticCheckpoint.builder().dtype(DType.I8));
        assertThrows(IllegalArgumentException.class,
                () -> SyntheticCheckpoint.builder().experts(2).topK(3).write(tmp.resolve("y")));
    }
}
