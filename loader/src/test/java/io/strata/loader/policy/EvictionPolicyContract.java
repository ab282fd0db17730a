package io.strata.loader.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.strata.core.model.ExpertId;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * What every {@link EvictionPolicy} must do, whatever its ordering (Lucene's BaseDirectoryTestCase is the model):
 * a subclass per implementation supplies {@link #newPolicy} and inherits these tests. The runtime's TierCache and
 * the trace simulator rely on exactly these properties: a victim is always a resident the predicate accepts (or
 * the incoming entry, meaning "do not keep it"), removed entries are forgotten, there is a victim whenever
 * something is evictable, and the same sequence of calls gives the same decisions.
 */
abstract class EvictionPolicyContract {
    /** A fresh policy for a cache of {@code capacity} entries. */
    abstract EvictionPolicy newPolicy(int capacity);

    /** Whether two instances fed the same calls decide the same; a subclass that says no must say why. */
    boolean deterministic() {
        return true;
    }

    private static final Predicate<ExpertId> ANY = x -> true;

    /** Routing-shaped accesses: layers in a cycle, a few experts per visit, skewed choice. */
    static List<ExpertId> routing(Random rnd, int tokens, int layers, int experts, int topK) {
        List<ExpertId> out = new ArrayList<>();
        for (int t = 0; t < tokens; t++) {
            for (int l = 0; l < layers; l++) {
                Set<Integer> chosen = new LinkedHashSet<>();
                while (chosen.size() < topK) {
                    chosen.add((int) Math.min(experts - 1, Math.abs(rnd.nextGaussian()) * experts / 2.5));
                }
                for (int e : chosen) {
                    out.add(new ExpertId(l, e));
                }
            }
        }
        return out;
    }

    /**
     * Drives {@code p} as a demand cache of {@code capacity} over {@code accesses}, checking after every victim
     * call that it is an evictable resident or the incoming entry; returns the victims in order (null-free).
     */
    static List<ExpertId> drive(EvictionPolicy p, List<ExpertId> accesses, int capacity, Random rnd) {
        Set<ExpertId> resident = new LinkedHashSet<>();
        List<ExpertId> victims = new ArrayList<>();
        for (ExpertId id : accesses) {
            p.recordAccess(id, rnd.nextDouble());
            if (resident.contains(id)) {
                continue;
            }
            if (resident.size() >= capacity) {
                // a random half of the residents is pinned: the victim must come from the other half
                Set<ExpertId> unpinned = new HashSet<>();
                for (ExpertId r : resident) {
                    if (rnd.nextBoolean()) {
                        unpinned.add(r);
                    }
                }
                ExpertId v = p.victim(id, unpinned::contains);
                if (v == null) {
                    assertTrue(unpinned.isEmpty(), p.name() + " gave no victim with " + unpinned.size()
                            + " evictable residents");
                    continue; // everything pinned: the cache goes over capacity this once, as TierCache would wait
                }
                victims.add(v);
                if (v.equals(id)) {
                    continue; // bypass
                }
                assertTrue(unpinned.contains(v), p.name() + " chose " + v + ", which is "
                        + (resident.contains(v) ? "pinned" : "not resident"));
                resident.remove(v);
                p.removed(v);
            }
            resident.add(id);
            p.inserted(id);
        }
        return victims;
    }

    @Test
    void anEmptyPolicyHasNoVictimButMayBypass() {
        EvictionPolicy p = newPolicy(4);
        assertNull(p.victim(null, ANY));
        ExpertId in = new ExpertId(0, 1);
        p.recordAccess(in, 0.5);
        ExpertId v = p.victim(in, ANY);
        assertTrue(v == null || v.equals(in), "only the incoming entry can be a victim of an empty cache: " + v);
    }

    @Test
    void nothingEvictableMeansNoResidentVictim() {
        EvictionPolicy p = newPolicy(8);
        for (int e = 0; e < 8; e++) {
            ExpertId id = new ExpertId(e % 2, e);
            p.recordAccess(id, 0.25);
            p.inserted(id);
        }
        assertNull(p.victim(null, x -> false));
        ExpertId in = new ExpertId(3, 3);
        p.recordAccess(in, 0.25);
        ExpertId v = p.victim(in, x -> false);
        assertTrue(v == null || v.equals(in), "a pinned resident was chosen: " + v);
    }

    @Test
    void victimsAreEvictableResidentsOverARoutingTrace() {
        Random rnd = new Random(11);
        EvictionPolicy p = newPolicy(24);
        List<ExpertId> victims = drive(p, routing(rnd, 120, 6, 16, 2), 24, rnd);
        assertTrue(victims.size() > 100, "the trace must make the cache evict: " + victims.size());
    }

    @Test
    void drainingReturnsEveryResidentExactlyOnce() {
        EvictionPolicy p = newPolicy(64);
        Random rnd = new Random(5);
        Set<ExpertId> inserted = new HashSet<>();
        for (ExpertId id : routing(rnd, 30, 4, 16, 2)) {
            p.recordAccess(id, rnd.nextDouble());
            if (inserted.add(id)) {
                p.inserted(id);
            }
        }
        Set<ExpertId> drained = new HashSet<>();
        ExpertId v;
        while ((v = p.victim(null, ANY)) != null) {
            assertTrue(inserted.contains(v), "never inserted: " + v);
            assertTrue(drained.add(v), v + " returned again after removal");
            p.removed(v);
        }
        assertEquals(inserted, drained, "a victim is given while anything is evictable");
    }

    @Test
    void onlyTheAcceptedSubsetIsEvicted() {
        EvictionPolicy p = newPolicy(32);
        List<ExpertId> ids = new ArrayList<>();
        for (int l = 0; l < 4; l++) {
            for (int e = 0; e < 8; e++) {
                ids.add(new ExpertId(l, e));
            }
        }
        for (ExpertId id : ids) {
            p.recordAccess(id, Double.NaN);
            p.inserted(id);
        }
        Set<ExpertId> allowed = new HashSet<>();
        for (ExpertId id : ids) {
            if (id.expert() % 3 == 0) {
                allowed.add(id);
            }
        }
        int n = allowed.size();
        for (int i = 0; i < n; i++) {
            ExpertId v = p.victim(null, allowed::contains);
            assertNotNull(v, "still " + allowed.size() + " evictable");
            assertTrue(allowed.remove(v), "not in the accepted subset: " + v);
            p.removed(v);
        }
        assertNull(p.victim(null, allowed::contains));
        assertNotNull(p.victim(null, ANY), "the rest is still resident");
    }

    @Test
    void removedAndNeverInsertedIdsAreNeverVictims() {
        EvictionPolicy p = newPolicy(16);
        ExpertId gone = new ExpertId(1, 1);
        for (int e = 0; e < 6; e++) {
            ExpertId id = new ExpertId(1, e);
            p.recordAccess(id, 0.5);
            p.inserted(id);
        }
        p.recordAccess(gone, 0.9);
        p.removed(gone);
        for (int i = 0; i < 50; i++) { // accesses that miss and are never inserted
            p.recordAccess(new ExpertId(2, i % 7), 0.5);
        }
        Set<ExpertId> seen = new HashSet<>();
        ExpertId v;
        while ((v = p.victim(null, ANY)) != null) {
            assertTrue(v.layer() == 1 && !v.equals(gone), "not resident: " + v);
            seen.add(v);
            p.removed(v);
        }
        assertEquals(5, seen.size());
    }

    @Test
    void aReinsertedEntryIsEvictableAgain() {
        EvictionPolicy p = newPolicy(2);
        ExpertId a = new ExpertId(0, 0);
        p.recordAccess(a, 0.5);
        p.inserted(a);
        assertEquals(a, p.victim(null, ANY));
        p.removed(a);
        assertNull(p.victim(null, ANY));
        p.recordAccess(a, 0.5);
        p.inserted(a);
        assertEquals(a, p.victim(null, ANY));
    }

    @Test
    void theSameSequenceGivesTheSameDecisions() {
        Assumptions.assumeTrue(deterministic(), "documented as non-deterministic");
        List<ExpertId> trace = routing(new Random(3), 80, 8, 8, 2);
        List<ExpertId> first = drive(newPolicy(20), trace, 20, new Random(9));
        List<ExpertId> second = drive(newPolicy(20), trace, 20, new Random(9));
        int i = 0;
        while (i < Math.min(first.size(), second.size()) && first.get(i).equals(second.get(i))) {
            i++;
        }
        assertEquals(first.size(), i, "victim " + i + " of " + first.size() + " differs between two runs");
        assertEquals(first.size(), second.size());
    }

    @Test
    void sparseIdsAndAnyWeightAreAccepted() {
        EvictionPolicy p = newPolicy(4);
        ExpertId[] ids = {new ExpertId(1000, 4095), new ExpertId(0, 0), new ExpertId(7, 300), new ExpertId(26, 63)};
        double[] weights = {Double.NaN, 0, 1, 0.3};
        for (int round = 0; round < 3; round++) {
            for (int i = 0; i < ids.length; i++) {
                p.recordAccess(ids[i], weights[i]);
                if (round == 0) {
                    p.inserted(ids[i]);
                }
            }
        }
        Set<ExpertId> drained = new HashSet<>();
        ExpertId v;
        while ((v = p.victim(null, ANY)) != null) {
            assertTrue(drained.add(v));
            p.removed(v);
        }
        assertEquals(Set.of(ids), drained);
    }

    @Test
    void concurrentCachesSharingOnePolicyStayConsistent() throws Exception {
        // like TierCache under its lock, but several threads call at once: each owns one layer's entries and
        // only ever lets its own be evicted, so a victim from another thread's set is a policy race
        EvictionPolicy p = newPolicy(64);
        int threads = 4;
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int layer = t;
                done.add(pool.submit(() -> {
                    Random rnd = new Random(layer);
                    Set<ExpertId> mine = new HashSet<>();
                    start.await();
                    for (int i = 0; i < 3000; i++) {
                        ExpertId id = new ExpertId(layer, rnd.nextInt(24));
                        p.recordAccess(id, rnd.nextDouble());
                        if (mine.contains(id)) {
                            continue;
                        }
                        if (mine.size() >= 8) {
                            ExpertId v = p.victim(null, mine::contains);
                            if (v == null || !mine.contains(v)) {
                                fail(p.name() + " gave " + v + " to the thread owning layer " + layer);
                            }
                            mine.remove(v);
                            p.removed(v);
                        }
                        mine.add(id);
                        p.inserted(id);
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
