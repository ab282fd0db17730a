package io.strata.loader.trace;

import io.strata.testdata.TestData;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.core.model.ExpertId;
import io.strata.loader.policy.Policies;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TraceReplayTest {
    static final Path DATA = TestData.root();

    static List<Path> sharedTraces() throws Exception {
        try (Stream<Path> s = Files.list(DATA.resolve("traces"))) {
            return s.filter(p -> p.toString().endsWith(".jsonl")).sorted().toList();
        }
    }

    static List<Path> deepSeekTraces() throws Exception {
        try (Stream<Path> s = Files.list(DATA.resolve("traces/deepseek-v2-lite"))) {
            return s.filter(p -> p.toString().endsWith(".jsonl")).sorted().toList();
        }
    }

    /** Independent brute-force LRU: a list scanned linearly, no shared code with the policy classes. */
    static long naiveLru(List<RoutingTrace.Access> acc, int cap) {
        List<ExpertId> lru = new ArrayList<>();
        long hits = 0;
        for (RoutingTrace.Access a : acc) {
            if (lru.remove(a.id())) {
                hits++;
            } else if (lru.size() == cap) {
                lru.removeFirst();
            }
            lru.add(a.id());
        }
        return hits;
    }

    /** Independent brute-force MIN without bypass: scans forward for each resident's next use. */
    static long naiveMin(List<RoutingTrace.Access> acc, int cap) {
        Set<ExpertId> res = new HashSet<>();
        long hits = 0;
        for (int i = 0; i < acc.size(); i++) {
            ExpertId id = acc.get(i).id();
            if (res.contains(id)) {
                hits++;
                continue;
            }
            if (res.size() == cap) {
                ExpertId far = null;
                int farAt = -1;
                for (ExpertId r : res) {
                    int j = i + 1;
                    while (j < acc.size() && !acc.get(j).id().equals(r)) {
                        j++;
                    }
                    if (j > farAt) {
                        farAt = j;
                        far = r;
                    }
                }
                res.remove(far);
            }
            res.add(id);
        }
        return hits;
    }

    @Test
    void beladyBeatsEveryPolicyOnEveryTraceAndCapacity() throws Exception {
        List<RoutingTrace> traces = new ArrayList<>();
        for (Path p : sharedTraces()) {
            traces.add(RoutingTrace.read(p));
        }
        traces.add(RoutingTrace.read(DATA.resolve("fixtures/tiny-mixtral-f32/reference.json")));
        traces.add(randomTrace(new Random(7), 4000, 8, 16, 2));
        StringBuilder table = new StringBuilder();
        for (RoutingTrace t : traces) {
            List<RoutingTrace.Access> acc = t.accesses();
            for (int cap : new int[]{2, 8, 32, 64, 128}) {
                long belady = BeladySimulator.hits(acc, cap);
                assertTrue(belady >= naiveMin(acc, cap), "bypass MIN is at least forced MIN");
                for (String p : Policies.NAMES) {
                    ReplayResult r = TraceReplay.replay(t, p, cap);
                    assertEquals(belady, r.beladyHits());
                    assertTrue(r.hits() <= belady, p + " beat Belady at capacity " + cap);
                    table.append(String.format(Locale.ROOT, "%d %s %.3f / %.3f%n", cap, p, r.hitRate(), r.belady()));
                }
            }
        }
        System.out.print(table);
    }

    @Test
    void lruMatchesAnIndependentSimulation() throws Exception {
        for (Path p : sharedTraces()) {
            List<RoutingTrace.Access> acc = RoutingTrace.read(p).accesses();
            for (int cap : new int[]{16, 64, 128}) {
                assertEquals(naiveLru(acc, cap), TraceReplay.replay(RoutingTrace.read(p), "lru", cap).hits());
            }
        }
    }

    @Test
    void sharedTracesReproduceTheKnownFigures() throws Exception {
        // the traces' published figures (testdata/data/README.md): 64: LRU ~29 %, Belady ~58 %; 128: ~53 %, ~80 %
        for (Path p : sharedTraces()) {
            RoutingTrace t = RoutingTrace.read(p);
            ReplayResult r64 = TraceReplay.replay(t, "lru", 64);
            ReplayResult r128 = TraceReplay.replay(t, "lru", 128);
            assertEquals(0.29, r64.hitRate(), 0.04, p.toString());
            assertEquals(0.58, r64.belady(), 0.05, p.toString());
            assertEquals(0.53, r128.hitRate(), 0.05, p.toString());
            assertEquals(0.80, r128.belady(), 0.05, p.toString());
        }
    }

    @Test
    void moePolicyIsAtLeastLruOnTheSharedAndFixtureTraces() throws Exception {
        List<Path> files = new ArrayList<>(sharedTraces());
        files.add(DATA.resolve("fixtures/tiny-mixtral-f32/reference.json"));
        for (Path p : files) {
            RoutingTrace t = RoutingTrace.read(p);
            for (int cap : new int[]{4, 32, 64, 128}) {
                long lru = TraceReplay.replay(t, "lru", cap).hits();
                long moe = TraceReplay.replay(t, "moe", cap).hits();
                assertTrue(moe >= lru, p + " capacity " + cap + ": moe " + moe + " < lru " + lru);
            }
        }
    }

    /**
     * The default policy on real routing, held out: its few constants were chosen on mixtral p0 alone (the
     * others are compared there too, but p1 and both DeepSeek traces never informed a choice), at an eighth, a
     * quarter and half of all experts. Floors sit about 3 points under what it measured (Mixtral p1: 0.53 /
     * 0.63 / 0.78 of Belady; DeepSeek law 0.66 / 0.73 / 0.86, translation 0.75 / 0.84 / 0.94; LRU there:
     * 0.00 / 0.50 / 0.65, 0.52 / 0.65 / 0.82, 0.45 / 0.78 / 0.93).
     */
    @Test
    void theDefaultBeatsLruAndNearsBeladyOnHeldOutRealTraces() throws Exception {
        double[] fractions = {0.125, 0.25, 0.5};
        Map<Path, double[]> floors = new LinkedHashMap<>();
        floors.put(DATA.resolve("traces/mixtral-8x7b-gsm8k-p1.jsonl"), new double[]{0.50, 0.60, 0.75});
        for (Path p : deepSeekTraces()) {
            floors.put(p, new double[]{0.62, 0.70, 0.83});
        }
        assertEquals(3, floors.size());
        double[] gainOverLru = new double[fractions.length];
        StringBuilder table = new StringBuilder();
        for (Map.Entry<Path, double[]> f : floors.entrySet()) {
            RoutingTrace t = RoutingTrace.read(f.getKey());
            List<RoutingTrace.Access> acc = t.accesses();
            for (int i = 0; i < fractions.length; i++) {
                int cap = (int) Math.round(t.expertCount() * fractions[i]);
                long belady = BeladySimulator.hits(acc, cap);
                long lru = CacheSimulator.hits(acc, Policies.create("lru", cap), cap);
                long nv = CacheSimulator.hits(acc, Policies.create(Policies.DEFAULT, cap), cap);
                String where = f.getKey().getFileName() + " at " + cap + " experts";
                assertTrue(nv <= belady && lru <= belady, where + ": a policy beat Belady");
                assertTrue(nv >= lru, where + ": " + nv + " hits < LRU's " + lru);
                double ratio = (double) nv / belady;
                assertTrue(ratio >= f.getValue()[i], where + ": " + ratio + " of Belady, floor " + f.getValue()[i]);
                gainOverLru[i] += (ratio - (double) lru / belady) / floors.size();
                table.append(String.format(Locale.ROOT, "%s %d: next-visit %.3f lru %.3f of belady %.3f%n",
                        f.getKey().getFileName(), cap, ratio, (double) lru / belady, (double) belady / acc.size()));
            }
        }
        System.out.print(table);
        for (int i = 0; i < fractions.length; i++) { // measured mean gains: 0.32 / 0.09 / 0.06
            assertTrue(gainOverLru[i] >= 0.04, "at " + fractions[i] + " of the experts the mean gain over LRU is only "
                    + gainOverLru[i]);
        }
    }

    @Test
    void beladyBeatsEveryPolicyOnTheDeepSeekTraces() throws Exception {
        for (Path p : deepSeekTraces()) {
            RoutingTrace t = RoutingTrace.read(p);
            List<RoutingTrace.Access> acc = t.accesses();
            int cap = t.expertCount() / 4;
            long belady = BeladySimulator.hits(acc, cap);
            for (String name : Policies.NAMES) {
                long hits = CacheSimulator.hits(acc, Policies.create(name, cap), cap);
                assertTrue(hits <= belady, p.getFileName() + ": " + name + " " + hits + " > Belady " + belady);
            }
        }
    }

    @Test
    void percentagesOfAllExpertsCountLayersTimesExperts() throws Exception {
        assertEquals(32 * 8, RoutingTrace.read(DATA.resolve("traces/mixtral-8x7b-gsm8k-p0.jsonl")).expertCount());
        for (Path p : deepSeekTraces()) { // MoE layers 1..26, 64 routed experts
            assertEquals(26 * 64, RoutingTrace.read(p).expertCount(), p.toString());
        }
    }

    @Test
    void readsJsonLinesAndRejectsBadRecords(@TempDir Path dir) throws Exception {
        Path ok = dir.resolve("t.jsonl");
        Files.writeString(ok, "{\"step\":0,\"layer\":3,\"token\":0,\"experts\":[5,1]}\n\n{\"step\":1,\"layer\":0,\"token\":0,\"experts\":[2,2],\"weights\":[0.6,0.4]}\n");
        RoutingTrace t = RoutingTrace.read(ok);
        assertEquals(4, t.accesses().size());
        assertEquals(new ExpertId(3, 5), t.accesses().getFirst().id());
        assertEquals(0.4, t.accesses().get(3).weight());
        Path bad = dir.resolve("bad.jsonl");
        Files.writeString(bad, "{\"step\":0,\"token\":0}\n");
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> RoutingTrace.read(bad));
        assertTrue(e.getMessage().contains("bad.jsonl:1"), e.getMessage());
    }

    static RoutingTrace randomTrace(Random rnd, int tokens, int layers, int experts, int k) {
        List<RoutingRecord> out = new ArrayList<>();
        for (int t = 0; t < tokens / layers; t++) {
            for (int l = 0; l < layers; l++) {
                int a = (int) Math.min(experts - 1, Math.abs(rnd.nextGaussian()) * experts / 3);
                int b = (a + 1 + rnd.nextInt(experts - 1)) % experts;
                out.add(new RoutingRecord(t, l, 0, new int[]{a, b}, null));
            }
        }
        return new RoutingTrace(out);
    }
}
