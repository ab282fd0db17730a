package io.strata.loader.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.core.model.ExpertId;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class NextVisitPolicyTest extends EvictionPolicyContract {
    @Override
    EvictionPolicy newPolicy(int capacity) {
        return new NextVisitPolicy();
    }

    @Test
    void isTheDefault() {
        assertEquals("next-visit", Policies.create(Policies.DEFAULT, 1).name());
        assertEquals(Policies.DEFAULT, Policies.NAMES.getLast());
    }

    /** Misses on expert 0 (chosen by every layer at every token) after a warm-up, as a demand cache. */
    private static long missesOnTheAlwaysChosenExpert(EvictionPolicy p, int capacity) {
        Random rnd = new Random(4);
        Set<ExpertId> resident = new HashSet<>();
        long misses = 0;
        for (int t = 0; t < 220; t++) {
            for (int l = 0; l < 4; l++) {
                for (ExpertId id : new ExpertId[]{new ExpertId(l, 0), new ExpertId(l, 1 + rnd.nextInt(7))}) {
                    p.recordAccess(id, id.expert() == 0 ? 0.6 : 0.4);
                    if (resident.contains(id)) {
                        continue;
                    }
                    if (t >= 20 && id.expert() == 0) {
                        misses++;
                    }
                    if (resident.size() >= capacity) {
                        ExpertId v = p.victim(null, x -> true);
                        resident.remove(v);
                        p.removed(v);
                    }
                    resident.add(id);
                    p.inserted(id);
                }
            }
        }
        return misses;
    }

    @Test
    void keepsWhatEveryVisitOfTheLayerCycleUses() {
        // one token needs 8 experts, the cache holds 6: LRU's sweep evicts exactly what comes next; learning
        // that expert 0 of each layer is always chosen keeps those four and churns the other two slots
        assertEquals(0, missesOnTheAlwaysChosenExpert(new NextVisitPolicy(), 6));
        assertTrue(missesOnTheAlwaysChosenExpert(new LruPolicy(), 6) > 400, "the sweep defeats LRU");
    }

    @Test
    void distancesFollowTheLayerCycleWhateverTheLayerNumbers() {
        RoutingHistory h = new RoutingHistory();
        for (int token = 0; token < 2; token++) {
            for (int layer = 1; layer <= 26; layer++) { // DeepSeek numbering: MoE layers 1..26
                if (token == 1 && layer == 6) {
                    break;
                }
                if (h.current() >= 0) {
                    h.close(h.current());
                }
                h.enter(layer);
                h.chose(layer % 3);
            }
        }
        assertEquals(5, h.current());
        assertEquals(26, h.cycle());
        assertEquals(26, h.distance(5), "the layer in progress comes back after a whole cycle");
        assertEquals(1, h.distance(6));
        assertEquals(25, h.distance(4));
        assertEquals(22, h.distance(1));
        assertEquals(21, h.distance(26));
        assertEquals(4, h.visitedBefore(1));
        assertEquals(26, h.visitedBefore(5));
    }
}
