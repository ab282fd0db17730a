package io.strata.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.strata.core.model.TpSplit;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class TensorNamingTest {
    @Test
    void mixtralRoles() {
        assertEquals(Role.EMBEDDING, TensorNaming.role("model.embed_tokens.weight", 2));
        assertEquals(Role.LM_HEAD, TensorNaming.role("lm_head.weight", 2));
        assertEquals(Role.NORM, TensorNaming.role("model.norm.weight", 1));
        assertEquals(Role.NORM, TensorNaming.role("model.layers.3.input_layernorm.weight", 1));
        assertEquals(Role.NORM, TensorNaming.role("model.layers.3.post_attention_layernorm.weight", 1));
        assertEquals(Role.ROUTER, TensorNaming.role("model.layers.3.block_sparse_moe.gate.weight", 2));
        assertEquals(Role.EXPERT, TensorNaming.role("model.layers.3.block_sparse_moe.experts.7.w2.weight", 2));
        assertEquals(Role.MATMUL, TensorNaming.role("model.layers.3.self_attn.o_proj.weight", 2));
        assertEquals(Role.OTHER, TensorNaming.role("model.layers.3.self_attn.q_proj.bias", 1));
    }

    @Test
    void qwenRoles() {
        assertEquals(Role.ROUTER, TensorNaming.role("model.layers.0.mlp.gate.weight", 2));
        assertEquals(Role.EXPERT, TensorNaming.role("model.layers.0.mlp.experts.127.down_proj.weight", 2));
        assertEquals(Role.NORM, TensorNaming.role("model.layers.0.self_attn.q_norm.weight", 1));
        assertEquals(Role.NORM, TensorNaming.role("model.layers.0.self_attn.k_norm.weight", 1));
        // Qwen2-MoE shared expert: a dense MLP and its scalar gate, not routed experts and not the router
        assertEquals(Role.MATMUL, TensorNaming.role("model.layers.0.mlp.shared_expert.gate_proj.weight", 2));
        assertEquals(Role.MATMUL, TensorNaming.role("model.layers.0.mlp.shared_expert_gate.weight", 2));
        // a dense (non-MoE) layer's MLP
        assertEquals(Role.MATMUL, TensorNaming.role("model.layers.0.mlp.gate_proj.weight", 2));
        // 2-D "norm" is not a norm vector
        assertEquals(Role.MATMUL, TensorNaming.role("model.layers.0.weird_norm.weight", 2));
    }

    @Test
    void expertIdsAndGroupOrder() {
        assertEquals(Optional.of(new ExpertId(12, 5)),
                TensorNaming.expert("model.layers.12.block_sparse_moe.experts.5.w3.weight"));
        assertEquals(Optional.of(new ExpertId(0, 127)), TensorNaming.expert("model.layers.0.mlp.experts.127.up_proj.weight"));
        assertEquals(Optional.empty(), TensorNaming.expert("model.layers.0.mlp.shared_expert.up_proj.weight"));
        assertEquals(Optional.empty(), TensorNaming.expert("model.layers.0.mlp.experts.1.up_proj.bias"));
        assertEquals(0, TensorNaming.expertOrder("model.layers.1.block_sparse_moe.experts.0.w1.weight"));
        assertEquals(1, TensorNaming.expertOrder("model.layers.1.block_sparse_moe.experts.0.w3.weight"));
        assertEquals(2, TensorNaming.expertOrder("model.layers.1.block_sparse_moe.experts.0.w2.weight"));
        assertEquals(0, TensorNaming.expertOrder("model.layers.1.mlp.experts.0.gate_proj.weight"));
        assertEquals(1, TensorNaming.expertOrder("model.layers.1.mlp.experts.0.up_proj.weight"));
        assertEquals(2, TensorNaming.expertOrder("model.layers.1.mlp.experts.0.down_proj.weight"));
        assertEquals(-1, TensorNaming.expertOrder("lm_head.weight"));
        assertEquals(OptionalInt.of(31), TensorNaming.layer("model.layers.31.self_attn.q_proj.weight"));
        assertEquals(OptionalInt.empty(), TensorNaming.layer("model.norm.weight"));
    }

    @Test
    void megatronSplits() {
        for (String n : new String[]{"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
                "block_sparse_moe.experts.0.w1", "block_sparse_moe.experts.0.w3", "mlp.experts.0.gate_proj",
                "mlp.experts.0.up_proj", "mlp.shared_expert.gate_proj", "mlp.shared_expert.up_proj"}) {
            assertEquals(TpSplit.COLUMN_PARALLEL, TensorNaming.tpSplit("model.layers.0." + n + ".weight", 2), n);
        }
        for (String n : new String[]{"self_attn.o_proj", "block_sparse_moe.experts.0.w2", "mlp.experts.0.down_proj",
                "mlp.shared_expert.down_proj"}) {
            assertEquals(TpSplit.ROW_PARALLEL, TensorNaming.tpSplit("model.layers.0." + n + ".weight", 2), n);
        }
        for (String n : new String[]{"model.embed_tokens.weight", "lm_head.weight", "model.layers.0.mlp.gate.weight",
                "model.layers.0.mlp.shared_expert_gate.weight", "model.norm.weight"}) {
            assertEquals(TpSplit.REPLICATED, TensorNaming.tpSplit(n, n.contains("norm") ? 1 : 2), n);
        }
        assertEquals(TpSplit.REPLICATED, TensorNaming.tpSplit("model.layers.0.self_attn.q_proj.weight", 1));
    }

    @Test
    void familiesFromConfig() throws Exception {
        ObjectMapper j = new ObjectMapper();
        var mixtral = j.readTree("{\"model_type\":\"mixtral\",\"num_local_experts\":8,\"num_experts_per_tok\":2}");
        assertEquals(ModelFamily.MIXTRAL, ModelFamily.fromConfig(mixtral));
        assertEquals(8, ModelFamily.MIXTRAL.numExperts(mixtral));
        assertEquals(2, ModelFamily.numExpertsPerToken(mixtral));
        var qwen = j.readTree("{\"model_type\":\"qwen3_moe\",\"num_experts\":128,\"num_experts_per_tok\":8}");
        assertEquals(ModelFamily.QWEN3_MOE, ModelFamily.fromConfig(qwen));
        assertEquals(128, ModelFamily.QWEN3_MOE.numExperts(qwen));
        assertEquals(ModelFamily.OTHER, ModelFamily.fromConfig(j.readTree("{\"model_type\":\"llama\"}")));
        assertEquals(ModelFamily.OTHER, ModelFamily.fromConfig(null));
        assertTrue(ModelFamily.OTHER.numExperts(j.readTree("{}")) == 0);
    }
}
