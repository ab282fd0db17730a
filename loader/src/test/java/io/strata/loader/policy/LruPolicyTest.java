package io.strata.loader.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.strata.core.model.ExpertId;
import org.junit.jupiter.api.Test;

class LruPolicyTest extends EvictionPolicyContract {
    @Override
    EvictionPolicy newPolicy(int capacity) {
        return new LruPolicy();
    }

    @Test
    void theLeastRecentlyAccessedGoesFirst() {
        EvictionPolicy p = newPolicy(3);
        ExpertId a = new ExpertId(0, 0);
        ExpertId b = new ExpertId(0, 1);
        ExpertId c = new ExpertId(0, 2);
        for (ExpertId id : new ExpertId[]{a, b, c}) {
            p.recordAccess(id, 0.5);
            p.inserted(id);
        }
        p.recordAccess(a, 0.5);
        assertEquals(b, p.victim(null, x -> true));
        assertEquals(c, p.victim(null, x -> !x.equals(b)));
    }
}
