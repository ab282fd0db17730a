package io.strata.storage.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.core.manifest.Manifest;
import io.strata.core.manifest.TensorInfo;
import io.strata.core.model.DType;
import io.strata.core.model.ExpertId;
import io.strata.core.model.ExpertProjection;
import io.strata.core.model.ModelFamily;
import io.strata.core.model.Role;
import io.strata.storage.safetensors.CheckpointException;
import io.strata.testdata.TestData;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A GGUF file as Strata's manifest: on llama.cpp's own Mixtral file every expert is its rows of the fused tensors
 * (offsets and sizes exactly expert e of [experts, out, in]), tensors get Hugging Face names, the config has
 * {@code rope_interleaved} for arch {@code llama}, and there are no hashes. Tensors or metadata the decoder would
 * not honour make the model unrunnable with the reason named; a fused tensor of the wrong shape is an error.
 */
class GgufManifestTest {
    @TempDir
    Path tmp;

    @Test
    void llamaCppsMixtralFileBecomesPerExpertRowRanges() {
        Path file = TestData.dir("fixtures/gguf/mixtral-tiny").resolve("mixtral-tiny-q4_k_m.gguf");
        try (GgufFile g = GgufFile.open(file)) {
            Manifest m = GgufManifest.of(g);
            assertEquals(Manifest.HASH_NONE, m.hashAlgorithm());
            assertFalse(m.hasHashes());
            assertNull(m.shards().getFirst().hash());
            assertEquals(file.getFileName().toString(), m.shards().getFirst().filename());
            assertEquals(g.mapping().size(), m.shards().getFirst().size());
            assertTrue(m.config().path(GgufModelConfig.ROPE_INTERLEAVED).asBoolean());
            assertTrue(m.decoderProblem().isEmpty(), m.decoderProblem().toString());
            assertEquals(8, m.moeConfig().numExperts());
            assertEquals(2, m.moeConfig().numMoeLayers());
            for (int l = 0; l < 2; l++) {
                for (ExpertProjection p : ExpertProjection.values()) {
                    GgufTensor fused = g.tensor("blk." + l + "." + p.ggufFusedName() + ".weight");
                    long per = fused.byteSize() / 8;
                    for (int e = 0; e < 8; e++) {
                        TensorInfo t = m.tensor(ModelFamily.MIXTRAL.expertTensorName(l, e, p));
                        assertEquals(fused.fileOffset() + e * per, t.offset());
                        assertEquals(per, t.size());
                        assertEquals(fused.dtype(), t.dtype());
                        assertEquals(java.util.List.of(fused.dim(1), fused.dim(2)), t.shape());
                        assertEquals(new ExpertId(l, e).groupName(), t.group());
                        assertEquals(Role.EXPERT, t.role());
                    }
                }
            }
            TensorInfo emb = m.tensor("model.embed_tokens.weight");
            assertEquals(g.tensor("token_embd.weight").fileOffset(), emb.offset());
            assertEquals(Role.EMBEDDING, emb.role());
            assertEquals(g.tensor("output.weight").dtype(), m.tensor("lm_head.weight").dtype());
            assertEquals(g.tensor("blk.1.attn_q.weight").fileOffset(),
                    m.tensor("model.layers.1.self_attn.q_proj.weight").offset());
            assertEquals(Role.ROUTER, m.tensor("model.layers.0.block_sparse_moe.gate.weight").role());
        }
    }

    /** A tiny arch-qwen3moe file with one layer; {@code extra} adds to it. */
    Path tiny(String name, Consumer<GgufWriter> extra, long[] gateShape, Arena a) {
        GgufWriter w = new GgufWriter().putString("general.architecture", "qwen3moe")
                .putUint32("qwen3moe.block_count", 1).putUint32("qwen3moe.embedding_length", 32)
                .putUint32("qwen3moe.expert_feed_forward_length", 32).putUint32("qwen3moe.attention.head_count", 2)
                .putUint32("qwen3moe.attention.head_count_kv", 2).putUint32("qwen3moe.expert_count", 2)
                .putUint32("qwen3moe.expert_used_count", 1).putUint32("qwen3moe.vocab_size", 8)
                .putFloat32("qwen3moe.attention.layer_norm_rms_epsilon", 1e-6f);
        w.tensor("token_embd.weight", DType.F32, new long[]{8, 32}, GgufWriterTest.random(a, 8 * 32 * 4, 1));
        for (String p : new String[]{"gate", "up", "down"}) {
            w.tensor("blk.0.ffn_" + p + "_exps.weight", DType.Q8_0, gateShape,
                    GgufWriterTest.random(a, DType.Q8_0.bytesFor(gateShape), 2));
        }
        extra.accept(w);
        Path f = tmp.resolve(name);
        w.write(f);
        return f;
    }

    @Test
    void unknownTensorsAndRopeScalingMakeTheModelUnrunnableNamingWhy() {
        try (Arena a = Arena.ofConfined()) {
            Path ok = tiny("ok.gguf", w -> { }, new long[]{2, 32, 32}, a);
            Manifest m = GgufManifest.read(ok);
            assertFalse(m.config().has(GgufModelConfig.ROPE_INTERLEAVED), "qwen3moe is NEOX");
            assertFalse(m.config().has(Manifest.CONFIG_UNSUPPORTED), m.config().toString());
            assertEquals(2 * 3, m.tensors().values().stream().filter(l -> l.getFirst().group() != null).count());

            Path odd = tiny("odd.gguf", w -> w.tensor("rope_freqs.weight", DType.F32, new long[]{8},
                            GgufWriterTest.random(a, 32, 3)).putString("qwen3moe.rope.scaling.type", "yarn"),
                    new long[]{2, 32, 32}, a);
            String why = GgufManifest.read(odd).decoderProblem().orElseThrow();
            assertTrue(why.contains("tensor 'rope_freqs.weight' is not one Strata's decoder reads"), why);
            assertTrue(why.contains("rope.scaling.type' is 'yarn'"), why);
            assertTrue(why.contains("odd.gguf"), why);
        }
    }

    @Test
    void aFusedExpertTensorOfTheWrongRankIsAnErrorNamingIt() {
        try (Arena a = Arena.ofConfined()) {
            Path bad = tiny("bad.gguf", w -> { }, new long[]{64, 32}, a);
            CheckpointException e = assertThrows(CheckpointException.class, () -> GgufManifest.read(bad));
            assertTrue(e.getMessage().startsWith(bad.toString()), e.getMessage());
            assertTrue(e.getMessage().contains("'blk.0.ffn_gate_exps.weight': fused experts must have 3 dimensions"),
                    e.getMessage());
        }
    }
}
