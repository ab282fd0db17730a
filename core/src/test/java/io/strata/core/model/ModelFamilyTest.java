package io.strata.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The family registry: every name a family hands out parses back to what it was asked for. */
class ModelFamilyTest {
    @Test
    void everyFamilyNameParsesBack() {
        for (ModelFamily f : ModelFamily.values()) {
            for (ModelTensor t : ModelTensor.values()) {
                String name = f.tensorName(t, 7);
                assertEquals(Optional.of(t), TensorNaming.kind(name), f + " " + name);
                if (t.perLayer()) {
                    assertEquals(7, TensorNaming.layer(name).orElseThrow(), name);
                }
            }
            for (ExpertProjection p : ExpertProjection.values()) {
                String name = f.expertTensorName(3, 5, p);
                assertEquals(Optional.of(new ExpertId(3, 5)), TensorNaming.expert(name), name);
                assertEquals(Optional.of(p), TensorNaming.expertProjection(name), name);
                assertEquals(Role.EXPERT, TensorNaming.role(name, 2), name);
                assertEquals(p.tpSplit(), TensorNaming.tpSplit(name, 2), name);
            }
            assertEquals(Role.ROUTER, TensorNaming.role(f.tensorName(ModelTensor.ROUTER, 0), 2), f.toString());
        }
    }

    @Test
    void expertSpellingsFollowTheFamily() {
        assertEquals("model.layers.1.block_sparse_moe.experts.2.w3.weight",
                ModelFamily.MIXTRAL.expertTensorName(1, 2, ExpertProjection.UP));
        assertEquals("model.layers.1.mlp.experts.2.up_proj.weight",
                ModelFamily.QWEN3_MOE.expertTensorName(1, 2, ExpertProjection.UP));
        assertEquals("model.layers.4.block_sparse_moe.gate.weight", ModelFamily.MIXTRAL.tensorName(ModelTensor.ROUTER, 4));
        assertEquals("model.layers.4.mlp.gate.weight", ModelFamily.QWEN3_MOE.tensorName(ModelTensor.ROUTER, 4));
    }

    @Test
    void ggufNamesMapToTheFamilysNames() {
        // the names llama.cpp wrote into the mixtral-tiny fixture (arch llama, 8 experts)
        ModelFamily f = ModelFamily.fromGgufArchitecture("llama", true);
        assertEquals(ModelFamily.MIXTRAL, f);
        assertEquals(Optional.of("model.layers.0.self_attn.q_proj.weight"), TensorNaming.fromGguf("blk.0.attn_q.weight", f));
        assertEquals(Optional.of("model.layers.1.self_attn.o_proj.weight"),
                TensorNaming.fromGguf("blk.1.attn_output.weight", f));
        assertEquals(Optional.of("model.layers.1.block_sparse_moe.gate.weight"),
                TensorNaming.fromGguf("blk.1.ffn_gate_inp.weight", f));
        assertEquals(Optional.of("model.layers.0.post_attention_layernorm.weight"),
                TensorNaming.fromGguf("blk.0.ffn_norm.weight", f));
        assertEquals(Optional.of("model.embed_tokens.weight"), TensorNaming.fromGguf("token_embd.weight", f));
        assertEquals(Optional.of("lm_head.weight"), TensorNaming.fromGguf("output.weight", f));
        assertEquals(Optional.of("model.norm.weight"), TensorNaming.fromGguf("output_norm.weight", f));
        assertEquals(Optional.empty(), TensorNaming.fromGguf("blk.0.ffn_gate_exps.weight", f), "fused experts");
        assertEquals(Optional.of("model.layers.2.self_attn.k_norm.weight"),
                TensorNaming.fromGguf("blk.2.attn_k_norm.weight", ModelFamily.fromGgufArchitecture("qwen3moe", true)));
        assertEquals(ModelFamily.OTHER, ModelFamily.fromGgufArchitecture("llama", false), "dense llama");
        assertTrue(ModelFamily.MIXTRAL.ggufPermutesQk());
        assertFalse(ModelFamily.QWEN3_MOE.ggufPermutesQk());
    }
}
