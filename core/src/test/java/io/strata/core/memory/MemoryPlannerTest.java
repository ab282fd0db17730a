package io.strata.core.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** Figures computed by hand (see the comments) from the published configs. */
class MemoryPlannerTest {
    static final String MIXTRAL_8X7B = """
            {"model_type":"mixtral","hidden_size":4096,"intermediate_size":14336,"num_hidden_layers":32,
             "num_attention_heads":32,"num_key_value_heads":8,"vocab_size":32000,"num_local_experts":8,
             "num_experts_per_tok":2,"tie_word_embeddings":false,"torch_dtype":"bfloat16"}""";
    static final String QWEN3_30B_A3B = """
            {"model_type":"qwen3_moe","hidden_size":2048,"intermediate_size":6144,"moe_intermediate_size":768,
             "num_hidden_layers":48,"num_attention_heads":32,"num_key_value_heads":4,"head_dim":128,
             "vocab_size":151936,"num_experts":128,"num_experts_per_tok":8,"tie_word_embeddings":false,
             "torch_dtype":"bfloat16"}""";
    static final long GIB = 1L << 30;

    static ModelShape shape(String json) throws Exception {
        return ModelShape.fromConfig(new ObjectMapper().readTree(json));
    }

    @Test
    void mixtral8x7bSingleDevice() throws Exception {
        ModelShape s = shape(MIXTRAL_8X7B);
        // expert: 3 x 4096 x 14336 x 2 B
        assertEquals(352_321_536L, s.expertBytes());
        // per layer: attention (2 x 4096x4096 + 2 x 4096x1024) x 2 = 83,886,080; router 8x4096x2 = 65,536;
        // norms 2x4096x2 = 16,384; embedding = lm_head = 32000x4096x2 = 262,144,000; final norm 8,192
        assertEquals(32L * (83_886_080 + 65_536 + 16_384) + 2 * 262_144_000L + 8_192, s.denseBytes());
        MemoryPlan p = MemoryPlanner.plan(s, Parallelism.NONE, 1, 4096, 24 * GIB, 64 * GIB);
        assertEquals(3_211_272_192L, p.denseBytes());
        assertEquals(256 * 352_321_536L, p.expertBytes()); // 90,194,313,216
        // KV: 32 layers x 2 x 8 heads x 128 x 4096 x 1 x 2 B = 512 MiB
        assertEquals(536_870_912L, p.kvBytes());
        // activations: 4096 tokens x 2 B x (2x4096 + 48x128 + 2x2x14336) + 32000 x 4 B logits
        assertEquals(4096L * 2 * (8192 + 6144 + 57344) + 128_000, p.activationBytes());
        assertEquals(0, p.commBytes());
        assertFalse(p.fitsOnDevice());
        // left for experts: 24 GiB - dense - kv - act = 21,434,330,112; one expert in every layer = 11,274,289,152
        assertEquals(1, p.deviceExpertsPerLayer());
        assertEquals(6, p.hostExpertsPerLayer()); // 64 GiB / 11,274,289,152 = 6.09
        assertTrue(p.runsWithPaging());
        assertTrue(p.format().contains("fits: no"));
    }

    @Test
    void mixtral8x7bSplitAcrossDevices() throws Exception {
        ModelShape s = shape(MIXTRAL_8X7B);
        MemoryPlan tp2 = MemoryPlanner.plan(s, new Parallelism(2, 1, 1, 1), 1, 4096, 80 * GIB, 0);
        // attention halves; router and norms replicated; embedding and lm_head vocab-parallel
        assertEquals(32L * (41_943_040 + 65_536 + 16_384) + 262_144_000L + 8_192, tp2.denseBytes());
        assertEquals(256 * 176_160_768L, tp2.expertBytes());
        assertEquals(268_435_456L, tp2.kvBytes()); // 4 kv heads per device
        assertEquals(2L * 4096 * 4096 * 2, tp2.commBytes()); // all-reduce, double-buffered
        MemoryPlan pp2ep4 = MemoryPlanner.plan(s, new Parallelism(1, 4, 2, 1), 1, 4096, 80 * GIB, 0);
        assertEquals(16, pp2ep4.layersPerDevice());
        assertEquals(2, pp2ep4.expertsPerDevice());
        // 16 layers of dense + the larger stage edge (lm_head + final norm)
        assertEquals(16L * 83_968_000 + 262_144_000L + 8_192, pp2ep4.denseBytes());
        assertEquals(16L * 2 * 352_321_536, pp2ep4.expertBytes());
        assertEquals(2L * 2 * 4096 * 2 * 4096 * 2 + 2L * 4096 * 4096 * 2, pp2ep4.commBytes());
        assertTrue(pp2ep4.fitsOnDevice());
        assertEquals(8, pp2ep4.par().devices());
    }

    @Test
    void qwen3_30bA3b() throws Exception {
        ModelShape s = shape(QWEN3_30B_A3B);
        assertEquals(9_437_184L, s.expertBytes()); // 3 x 2048 x 768 x 2
        // per layer: attention (2048x4096 x 2 + 2048x512 x 2) x 2 = 37,748,736; router 128x2048x2 = 524,288;
        // norms (2x2048 + 2x128) x 2 = 8,704; embedding = lm_head = 151936x2048x2 = 622,329,856; final norm 4,096
        MemoryPlan p = MemoryPlanner.plan(s, Parallelism.NONE, 1, 4096, 80 * GIB, 128 * GIB);
        assertEquals(48L * (37_748_736 + 524_288 + 8_704) + 2 * 622_329_856L + 4_096, p.denseBytes());
        assertEquals(3_082_186_752L, p.denseBytes());
        assertEquals(48L * 128 * 9_437_184, p.expertBytes()); // 57,982,058,496
        assertEquals(48L * 2 * 4 * 128 * 4096 * 2, p.kvBytes()); // 384 MiB
        assertTrue(p.fitsOnDevice());
        assertEquals(128, p.deviceExpertsPerLayer());
        MemoryPlan tp4ep8 = MemoryPlanner.plan(s, new Parallelism(4, 8, 1, 2), 8, 2048, 24 * GIB, 0);
        assertEquals(16, tp4ep8.expertsPerDevice());
        assertEquals(48L * 16 * (9_437_184 / 4), tp4ep8.expertBytes());
        // kv heads 4 / tp 4 = 1 per device; batch 8 / dp 2 = 4 per replica
        assertEquals(48L * 2 * 1 * 128 * 2048 * 4 * 2, tp4ep8.kvBytes());
        assertEquals(64, tp4ep8.par().devices());
    }

    @Test
    void rejectsBadInput() throws Exception {
        assertThrows(IllegalArgumentException.class, () -> new Parallelism(0, 1, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> shape("{\"hidden_size\":8}"));
        ModelShape s = shape(MIXTRAL_8X7B);
        assertThrows(IllegalArgumentException.class, () -> MemoryPlanner.plan(s, Parallelism.NONE, 0, 1, 1, 1));
    }
}
