package io.strata.loader.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.core.manifest.Manifest;
import io.strata.core.model.ExpertProjection;
import io.strata.core.model.Layout;
import io.strata.core.model.ModelFamily;
import io.strata.core.model.ModelTensor;
import io.strata.kernels.quant.QuantArithmetic;
import io.strata.loader.cache.ExpertHandle;
import io.strata.storage.gguf.GgufManifest;
import io.strata.storage.gguf.GgufValueType;
import io.strata.storage.gguf.GgufWriter;
import io.strata.storage.model.ConvertedModel;
import io.strata.storage.model.UnverifiableBytesException;
import io.strata.storage.safetensors.Checkpoint;
import io.strata.storage.safetensors.SafetensorsTensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GGUF files written here from a synthetic Hugging Face checkpoint, run in place against the converted checkpoint:
 * Qwen3-MoE (arch {@code qwen3moe}: q/k norms, NEOX RoPE, top-k renormalised by {@code expert_weights_norm}, q/k
 * rows as HF has them) gives bit-identical logits; Mixtral (arch {@code llama}) with its q/k rows permuted the way
 * llama.cpp's converter permutes them runs with interleaved RoPE and agrees to float rounding (the attention dot
 * products only sum in another order), while the same file read with rotate-half RoPE does not. Every expert the
 * runtime pages out of the fused tensors is the checkpoint's bytes, and a verifying read of the file is refused.
 */
class GgufSyntheticTest {
    static final int LAYERS = 2;
    static final int EXPERTS = 4;
    static final int HIDDEN = 64;
    static final int HEADS = 4;
    static final int KV_HEADS = 2;
    static final int HEAD_DIM = HIDDEN / HEADS;

    @TempDir
    Path tmp;

    /** The checkpoint as llama.cpp's converter would write it: GGUF names, fused experts, permuted q/k for llama. */
    static Path toGguf(Checkpoint ck, ModelFamily family, Path target, Arena arena) {
        String arch = family.ggufArchitecture().orElseThrow();
        var c = ck.config();
        int layers = c.get("num_hidden_layers").asInt();
        GgufWriter w = new GgufWriter();
        w.putString("general.architecture", arch);
        w.putString("general.name", "synthetic-" + arch);
        w.putUint32(arch + ".block_count", c.get("num_hidden_layers").asInt());
        w.putUint32(arch + ".embedding_length", c.get("hidden_size").asInt());
        w.putUint32(arch + ".feed_forward_length", c.get("intermediate_size").asInt());
        w.putUint32(arch + ".expert_feed_forward_length", c.get("intermediate_size").asInt());
        w.putUint32(arch + ".attention.head_count", c.get("num_attention_heads").asInt());
        w.putUint32(arch + ".attention.head_count_kv", c.get("num_key_value_heads").asInt());
        w.putUint32(arch + ".attention.key_length", c.get("head_dim").asInt());
        w.putUint32(arch + ".attention.value_length", c.get("head_dim").asInt());
        w.putFloat32(arch + ".rope.freq_base", (float) c.get("rope_theta").asDouble());
        w.putFloat32(arch + ".attention.layer_norm_rms_epsilon", (float) c.get("rms_norm_eps").asDouble());
        w.putUint32(arch + ".expert_count", EXPERTS);
        w.putUint32(arch + ".expert_used_count", c.get("num_experts_per_tok").asInt());
        w.putUint32(arch + ".vocab_size", c.get("vocab_size").asInt());
        if (family == ModelFamily.QWEN3_MOE) {
            w.put(arch + ".expert_weights_norm", GgufValueType.BOOL, c.get("norm_topk_prob").asBoolean());
        }
        for (ModelTensor t : ModelTensor.values()) {
            for (int l = 0; l < (t.perLayer() ? layers : 1); l++) {
                SafetensorsTensor s = ck.tensors().get(family.tensorName(t, l));
                if (s == null) {
                    continue;
                }
                MemorySegment data = s.data();
                if (family.ggufPermutesQk() && (t == ModelTensor.ATTN_Q || t == ModelTensor.ATTN_K)) {
                    data = permute(arena, data, (int) s.dim(0) / HEAD_DIM, (int) s.dim(1));
                }
                w.tensor(t.ggufName(l), s.dtype(), s.shape(), data);
            }
        }
        for (int l = 0; l < layers; l++) {
            for (ExpertProjection p : ExpertProjection.values()) {
                SafetensorsTensor first = ck.tensor(family.expertTensorName(l, 0, p));
                long per = first.byteSize();
                MemorySegment fused = arena.allocate(per * EXPERTS, 64);
                for (int e = 0; e < EXPERTS; e++) {
                    MemorySegment.copy(ck.tensor(family.expertTensorName(l, e, p)).data(), 0, fused, e * per, per);
                }
                w.tensor("blk." + l + "." + p.ggufFusedName() + ".weight", first.dtype(),
                        new long[]{EXPERTS, first.dim(0), first.dim(1)}, fused);
            }
        }
        w.write(target);
        return target;
    }

    /**
     * llama.cpp's q/k permutation (convert_hf_to_gguf.py {@code permute}): within each head, row 2i is HF row i and
     * row 2i + 1 is HF row i + d/2.
     */
    static MemorySegment permute(Arena arena, MemorySegment rows, int heads, int cols) {
        long rowBytes = 4L * cols;
        MemorySegment out = arena.allocate(rows.byteSize(), 64);
        int half = HEAD_DIM / 2;
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < half; i++) {
                for (int j = 0; j < 2; j++) {
                    long src = (long) h * HEAD_DIM + j * half + i;
                    long dst = (long) h * HEAD_DIM + 2L * i + j;
                    MemorySegment.copy(rows, src * rowBytes, out, dst * rowBytes, rowBytes);
                }
            }
        }
        return out;
    }

    static RuntimeOptions options() {
        return GgufFidelityTest.base().hostBudget(1L << 30).build();
    }

    static final int[] PROMPT = {3, 17, 42, 5, 9, 60, 1, 33, 12, 7};

    static float[][] logits(ModelRuntime rt) {
        return GgufFidelityTest.teacherForced(rt, QuantArithmetic.FLOAT, new int[]{PROMPT[0]}, java.util.Arrays.copyOfRange(PROMPT, 1,
                PROMPT.length));
    }

    @Test
    void qwen3MoeFromGgufIsBitIdenticalToTheConvertedCheckpoint() throws Exception {
        TestModels.Model m = TestModels.build(tmp, ModelFamily.QWEN3_MOE, LAYERS, EXPERTS, HIDDEN, 96, Layout.ROW, 1);
        try (Arena arena = Arena.ofShared(); Checkpoint ck = Checkpoint.open(m.source())) {
            Path gguf = toGguf(ck, ModelFamily.QWEN3_MOE, tmp.resolve("qwen3.gguf"), arena);
            Manifest gm = GgufManifest.read(gguf);
            assertEquals("qwen3_moe", gm.config().path("model_type").asText());
            assertTrue(gm.config().path("norm_topk_prob").asBoolean());
            assertTrue(!gm.config().has("rope_interleaved"), "qwen3moe uses NEOX RoPE");
            float[][] want;
            float[][] got;
            try (ModelRuntime rt = ModelRuntime.open(m.converted(), options())) {
                want = logits(rt);
            }
            try (ModelRuntime rt = ModelRuntime.open(gguf, options())) {
                got = logits(rt);
                for (int l = 0; l < LAYERS; l++) {
                    for (int e = 0; e < EXPERTS; e++) {
                        try (ExpertHandle h = rt.expert(l, e)) {
                            for (ExpertProjection p : ExpertProjection.values()) {
                                String name = ModelFamily.QWEN3_MOE.expertTensorName(l, e, p);
                                assertEquals(-1, ck.tensor(name).data().mismatch(h.tensor(p).data()), name);
                            }
                        }
                    }
                }
            }
            for (int s = 0; s < want.length; s++) {
                assertArrayEquals(want[s], got[s], "step " + s);
            }
        }
    }

    @Test
    void mixtralFromGgufWithPermutedQkRunsWithInterleavedRope() throws Exception {
        TestModels.Model m = TestModels.build(tmp, ModelFamily.MIXTRAL, LAYERS, EXPERTS, HIDDEN, 96, Layout.ROW, 1);
        try (Arena arena = Arena.ofShared(); Checkpoint ck = Checkpoint.open(m.source())) {
            Path gguf = toGguf(ck, ModelFamily.MIXTRAL, tmp.resolve("mixtral.gguf"), arena);
            float[][] want;
            try (ModelRuntime rt = ModelRuntime.open(m.converted(), options())) {
                want = logits(rt);
            }
            float[][] got;
            try (ModelRuntime rt = ModelRuntime.open(gguf, options())) {
                assertTrue(rt.config().path("rope_interleaved").asBoolean());
                got = logits(rt);
            }
            double worst = 0;
            for (int s = 0; s < want.length; s++) {
                worst = Math.max(worst, GgufFidelityTest.relativeError(new float[][]{got[s]}, json(want[s])));
            }
            assertTrue(worst < 1e-5, "interleaved RoPE on permuted q/k = rotate-half on HF q/k: " + worst);
            // the same file read as if its q/k were in HF order is far off: the test can tell the conventions apart
            double off = 0;
            try (ModelRuntime rt = ModelRuntime.open(gguf, options())) {
                var flipped = ((com.fasterxml.jackson.databind.node.ObjectNode) rt.config()).deepCopy()
                        .put("rope_interleaved", false);
                io.strata.core.weights.WeightSource rotateHalf = new io.strata.core.weights.WeightSource() {
                    public com.fasterxml.jackson.databind.JsonNode config() {
                        return flipped;
                    }

                    public io.strata.core.weights.TensorView dense(String name) {
                        return rt.dense(name);
                    }

                    public boolean hasTensor(String name) {
                        return rt.hasTensor(name);
                    }

                    public io.strata.core.weights.ExpertWeights expert(int layer, int expert) {
                        return rt.expert(layer, expert);
                    }
                };
                var d = new io.strata.kernels.decoder.MoeDecoder(rotateHalf,
                        io.strata.kernels.decoder.DecoderOptions.defaults().withThreads(1));
                try (var seq = d.newSequence()) {
                    var steps = seq.prefillSteps(PROMPT);
                    for (int s = 1; s < want.length; s++) {
                        off = Math.max(off, GgufFidelityTest.relativeError(new float[][]{steps.get(s).logits()},
                                json(want[s])));
                    }
                }
            }
            System.out.printf(java.util.Locale.ROOT, "GGUF llama permuted q/k: interleaved %.2e, rotate-half %.2e%n",
                    worst, off);
            assertTrue(off > 1e-3, "rotate-half on permuted q/k is wrong: " + off);
        }
    }

    @Test
    void aVerifyingReadOfAGgufFileIsRefused() throws Exception {
        TestModels.Model m = TestModels.build(tmp, ModelFamily.QWEN3_MOE, 1, EXPERTS, HIDDEN, 96, Layout.ROW, 1);
        try (Arena arena = Arena.ofShared(); Checkpoint ck = Checkpoint.open(m.source())) {
            Path gguf = toGguf(ck, ModelFamily.QWEN3_MOE, tmp.resolve("one.gguf"), arena);
            try (ConvertedModel cm = ConvertedModel.open(gguf)) {
                assertEquals(Manifest.HASH_NONE, cm.manifest().hashAlgorithm());
                try (Arena a = Arena.ofConfined()) {
                    MemorySegment dst = a.allocate(16);
                    UnverifiableBytesException e = assertThrows(UnverifiableBytesException.class,
                            () -> cm.reader().read(0, 0, dst));
                    assertTrue(e.getMessage().contains("no hashes"), e.getMessage());
                    cm.reader().readTrusted(0, 0, dst); // what the runtime does, saying so
                }
            }
        }
    }

    static com.fasterxml.jackson.databind.JsonNode json(float[] v) {
        var a = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.arrayNode();
        var row = a.addArray();
        for (float f : v) {
            row.add(f);
        }
        return a;
    }
}
