package io.strata.core.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Sizes that overflow 64 bits plan as "does not fit", never as a negative size that fits (issue 11). */
class PlanOverflowTest {
    @Test
    void batchAndSeqOfIntMaxDoNotFitInsteadOfGoingNegative() throws Exception {
        ModelShape s = MemoryPlannerTest.shape(MemoryPlannerTest.MIXTRAL_8X7B);
        MemoryPlan p = MemoryPlanner.plan(s, Parallelism.NONE, Integer.MAX_VALUE, Integer.MAX_VALUE,
                80L << 30, 64L << 30);
        assertTrue(p.kvBytes() > 0 && p.activationBytes() > 0 && p.totalBytes() > 0, p.format());
        assertFalse(p.fitsOnDevice(), p.format());
        assertFalse(p.runsWithPaging(), p.format());
        assertEquals(0, p.deviceExpertsPerLayer());
        assertTrue(p.format().contains("fits: no") && p.format().contains("overflows 64 bits"), p.format());
        assertFalse(p.format().contains("-"), "no negative figure: " + p.format());
    }

    @Test
    void dataParallelCeilingDoesNotWrap() throws Exception {
        ModelShape s = MemoryPlannerTest.shape(MemoryPlannerTest.MIXTRAL_8X7B);
        MemoryPlan p = MemoryPlanner.plan(s, new Parallelism(1, 1, 1, 2), Integer.MAX_VALUE, 1, 80L << 30, 0);
        assertTrue(p.kvBytes() > 0, p.format()); // ceil((2^31 - 1) / 2) wrapped negative with (a + b - 1) / b
    }

    @Test
    void absurdConfigSizesSaturate() throws Exception {
        ModelShape s = MemoryPlannerTest.shape("""
                {"hidden_size":2147483647,"intermediate_size":2147483647,"num_hidden_layers":2147483647,
                 "num_attention_heads":1,"vocab_size":2147483647,"num_local_experts":2147483647}""");
        assertTrue(s.denseBytes() > 0 && s.expertBytes() > 0 && s.totalExpertBytes() > 0);
        assertFalse(MemoryPlanner.plan(s, Parallelism.NONE, 1, 1, 80L << 30, 0).fitsOnDevice());
    }

    @Test
    void numAttentionHeadsZeroNamesTheFieldNotDivisionByZero() {
        var e = assertThrows(IllegalArgumentException.class, () -> MemoryPlannerTest.shape("""
                {"hidden_size":64,"intermediate_size":128,"num_hidden_layers":2,"num_attention_heads":0,
                 "vocab_size":100}"""));
        assertTrue(e.getMessage().contains("'num_attention_heads'") && e.getMessage().contains("got 0"),
                e.getMessage());
    }

    @Test
    void aDeviceCountBeyondIntIsRefused() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> new Parallelism(65536, 65536, 1, 1));
        assertTrue(e.getMessage().contains("devices"), e.getMessage());
    }
}
