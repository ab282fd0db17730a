package io.strata.loader.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class ReuseDistancePolicyTest extends EvictionPolicyContract {
    @Override
    EvictionPolicy newPolicy(int capacity) {
        return new ReuseDistancePolicy();
    }

    @Test
    void theOldNameStillSelectsIt() {
        assertEquals("reuse-distance", Policies.create("MoE", 8).name());
    }
}
