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
    void aVictimCallOnABigCacheScoresOnlyASample() {
        NextVisitPolicy p = new NextVisitPolicy(16);
        for (int l = 0; l < 40; l++) { // 40 layers x 50 experts resident, routed once each
            for (int e = 0; e < 50; e++) {
                ExpertId id = new ExpertId(l, e);
                p.recordAccess(id, Double.NaN);
                p.inserted(id);
            }
        }
        int[] tested = new int[1];
        ExpertId v = p.victim(null, x -> {
            tested[0]++;
            return true;
        });
        assertTrue(v != null && tested[0] == 16, "scored " + tested[0] + " of 2000 residents, sample 16");
        // the sample finds nothing evictable: all residents are tried, and the one evictable is found
        ExpertId only = new ExpertId(7, 7);
        tested[0] = 0;
        assertEquals(only, p.victim(null, x -> {
            tested[0]++;
            return x.equals(only);
        }));
        assertTrue(tested[0] > 2000, "fell back to all residents: " + tested[0]);
        // removal keeps the sample's index consistent: drop half, every victim is still a resident
        Set<ExpertId> left = new HashSet<>();
        for (int l = 0; l < 40; l++) {
            for (int e = 0; e < 50; e++) {
                ExpertId id = new ExpertId(l, e);
                if ((l + e) % 2 == 0) {
                    p.removed(id);
                } else {
                    left.add(id);
                }
            }
        }
        for (int i = 0; i < 100; i++) {
            ExpertId w = p.victim(null, x -> true);
            assertTrue(left.remove(w), w + " is not resident");
            p.removed(w);
        }
    }

    @Test
    void bypassesAnIncomingExpertWorthLessThanEveryResident() {
        // layer 0 always picks experts 0 and 1, layer 1 expert 0 and a new one-off each token; the cache holds the
        // three that always come back. A one-off coming in would push out one the next token needs: not kept
        NextVisitPolicy p = new NextVisitPolicy();
        for (ExpertId id : new ExpertId[]{new ExpertId(0, 0), new ExpertId(0, 1), new ExpertId(1, 0)}) {
            p.inserted(id);
        }
        for (int t = 0; t < 60; t++) {
            p.recordAccess(new ExpertId(0, 0), Double.NaN);
            p.recordAccess(new ExpertId(0, 1), Double.NaN);
            p.recordAccess(new ExpertId(1, 0), Double.NaN);
            ExpertId oneOff = new ExpertId(1, 2 + t);
            p.recordAccess(oneOff, Double.NaN);
            ExpertId v = p.victim(oneOff, x -> true);
            if (t >= 20) {
                assertEquals(oneOff, v, "token " + t);
            }
        }
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
