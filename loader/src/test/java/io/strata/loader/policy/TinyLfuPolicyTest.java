package io.strata.loader.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.core.model.ExpertId;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TinyLfuPolicyTest extends EvictionPolicyContract {
    @Override
    EvictionPolicy newPolicy(int capacity) {
        return new TinyLfuPolicy(capacity);
    }

    /** Caffeine's admission admits a warm candidate at random (its guard against hash flooding). */
    @Override
    boolean deterministic() {
        return false;
    }

    @Test
    void aByteBudgetPolicyFollowsTheSameContract() {
        // the runtime's form: budget in bytes, entries weighed by size
        Random rnd = new Random(2);
        EvictionPolicy p = Policies.create("w-tinylfu", 24L << 20, id -> 1L << 20);
        assertEquals("tinylfu", p.name());
        assertTrue(drive(p, routing(rnd, 60, 6, 16, 2), 24, rnd).size() > 50);
    }
}
