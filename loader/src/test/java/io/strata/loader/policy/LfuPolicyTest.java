package io.strata.loader.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.strata.core.model.ExpertId;
import org.junit.jupiter.api.Test;

class LfuPolicyTest extends EvictionPolicyContract {
    @Override
    EvictionPolicy newPolicy(int capacity) {
        return new LfuPolicy();
    }

    @Test
    void theLeastFrequentGoesFirstAndCountsSurviveEviction() {
        EvictionPolicy p = newPolicy(2);
        ExpertId a = new ExpertId(0, 0);
        ExpertId b = new ExpertId(0, 1);
        for (int i = 0; i < 3; i++) {
            p.recordAccess(a, 0.5);
        }
        p.inserted(a);
        p.recordAccess(b, 0.5);
        p.inserted(b);
        assertEquals(b, p.victim(null, x -> true));
        p.removed(a); // "perfect" LFU: a's three accesses still count when it comes back
        p.recordAccess(b, 0.5);
        p.recordAccess(a, 0.5);
        p.inserted(a);
        assertEquals(b, p.victim(null, x -> true));
    }
}
