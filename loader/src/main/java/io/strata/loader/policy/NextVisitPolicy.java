package io.strata.loader.policy;

import io.strata.core.model.ExpertId;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.SplittableRandom;
import java.util.function.Predicate;

/**
 * Strata's default expert-cache policy ({@code next-visit}): evicts the resident expert least likely to be used
 * at its layer's next visit, per access it would hold its slot until then.
 * <p>
 * Belady's MIN evicts the entry used farthest in the future, and on MoE routing an expert of layer L can only be
 * used when layer L comes round: the decoder visits its layers in a cycle. So each resident (L, e) is scored
 * {@code p / d}: {@code d} is the distance in accesses to L's next visit (the rest of the visit in progress,
 * then whole visits: small for the layers the token being decoded has yet to reach, a whole cycle for the layer
 * just computed), {@code p} the chance that visit picks e. {@code p} is estimated online, without peeking:
 * {@link ReuseOdds} learns from the model's own routing how the chance depends on how recently and how often e
 * was picked (the router weight added nothing measurable); {@link LayerAffinity} multiplies in what the current
 * token's choices at its latest layers (the one being routed included) say about the layers it has yet to
 * reach. The layer being routed may also use its experts again before the visit ends (batches, prompts):
 * {@link RoutingHistory#rateInVisit}. Hits per access held is LHD's "hit density" (Beckmann et al., NSDI '18),
 * the better of a one- and a two-visit horizon (the second visit's chance from {@link ReuseOdds} at the age the
 * expert would then have; worth +0.5 point of Belady at 128 of Mixtral's 256 experts on the tuning trace, more
 * visits added nothing). An incoming expert that scores below every candidate is not kept (bypass).
 * <p>
 * What limits it: with an oracle for "is e used at its layer's next visit" this same scoring reaches 0.74 / 0.79
 * of Belady at 64 / 128 of Mixtral's experts (tuning trace); the online estimate reaches 0.63 / 0.78. At the
 * smaller cache the gap is the prediction, at the larger one the horizon; the router weights' rank (top-1 vs
 * top-2) was tried as an index of {@link ReuseOdds} and changed nothing (it is mostly frequency).
 * <p>
 * Why not LRU: with a cache smaller than one token's working set, the cyclic sweep makes LRU evict exactly the
 * experts about to be needed (0 hits at 32 of Mixtral's 256 experts), and LRU ignores frequency. Figures and
 * the held-out protocol: {@code TraceReplayTest}. Before any routing is seen every score is equal and the
 * oldest insertion goes first. Cost: a victim call scores at most {@link #DEFAULT_SAMPLE} residents drawn at
 * random (all of them in a cache that small), each score kept for the rest of its visit; on a DeepSeek-V3-shaped
 * cache (58 layers x 256 experts, top-8, a quarter resident; synthetic routing) a replay costs ~11-13 ms per
 * token against ~56-69 for scanning every resident, for 0.002 of Belady; what is left is mostly learning
 * ({@link LayerAffinity#learn} and the per-expert folds at the end of each visit).
 */
public final class NextVisitPolicy implements EvictionPolicy {
    private final RoutingHistory history = new RoutingHistory();
    private final ReuseOdds odds = new ReuseOdds();
    private final LayerAffinity affinity = new LayerAffinity();
    /** Residents in insertion order (ties go to the earliest), each with its score as of some visit. */
    private final LinkedHashMap<ExpertId, Score> resident = new LinkedHashMap<>();
    /** The residents again, indexable for sampling: removal swaps the last one into the hole. */
    private final ArrayList<ExpertId> slots = new ArrayList<>();
    private final int sample;
    private final SplittableRandom random = new SplittableRandom(0x5eed);
    private long snapshotVisit = -1;
    private long insertions;

    /** Residents scored per victim call once there are more than this many: the scan's cost stays bounded. */
    static final int DEFAULT_SAMPLE = 128;
    /** Visits of its layer an expert's score looks ahead (LHD's horizon). */
    static final int HORIZON = 2;

    public NextVisitPolicy() {
        this(DEFAULT_SAMPLE);
    }

    /** {@code sample}: residents scored per victim call when there are more ({@code Integer.MAX_VALUE}: all). */
    NextVisitPolicy(int sample) {
        if (sample < 1) {
            throw new IllegalArgumentException("sample must be at least 1, got " + sample);
        }
        this.sample = sample;
    }

    /**
     * A resident's score, kept for the rest of the visit it was computed in: only the layer being routed
     * changes within a visit (its experts are scored afresh), and rescoring thousands of residents on every miss
     * would cost more than the misses (DeepSeek-V3's shape: 58 layers x 256 experts).
     */
    private static final class Score {
        double value;
        long visit = -1;
        int slot;
        long order; // insertion number: ties go to the earliest
    }

    @Override
    public String name() {
        return "next-visit";
    }

    @Override
    public synchronized void recordAccess(ExpertId id, double weight) {
        int layer = id.layer();
        int current = history.current();
        if (layer != current) {
            if (current >= 0) {
                endVisit(current);
            }
            history.enter(layer);
        }
        history.chose(id.expert()); // the weight: see ReuseOdds
    }

    private void endVisit(int layer) {
        RoutingHistory.Layer l = history.layer(layer);
        for (int e = 0; e < l.experts; e++) {
            if (l.tracked(e)) {
                odds.learn(l.age[e], l.relativeFrequency(e), l.longRunFrequency(e), l.now[e]);
            }
        }
        history.close(layer);
        affinity.learn(history, layer, l.lastSet);
    }

    @Override
    public synchronized void inserted(ExpertId id) {
        if (!resident.containsKey(id)) {
            Score s = new Score();
            s.slot = slots.size();
            s.order = insertions++;
            slots.add(id);
            resident.put(id, s);
        }
    }

    @Override
    public synchronized void removed(ExpertId id) {
        Score s = resident.remove(id);
        if (s != null) {
            ExpertId last = slots.removeLast();
            if (s.slot < slots.size()) {
                slots.set(s.slot, last);
                resident.get(last).slot = s.slot;
            }
        }
    }

    /**
     * The lowest-scoring evictable resident: all of them while they are at most {@code sample}, else the best of
     * {@code sample} drawn at random (LHD's sampling; an eviction then costs O(sample), not O(residents), on a
     * DeepSeek-V3-sized cache), falling back to all when the sample held nothing evictable. Returns
     * {@code incoming} (bypass) when it scores lower still: an expert unlikely to come back before the cycle does
     * would only push out one that will.
     */
    @Override
    public synchronized ExpertId victim(ExpertId incoming, Predicate<ExpertId> evictable) {
        ExpertId best = null;
        double bestScore = Double.POSITIVE_INFINITY;
        long bestOrder = Long.MAX_VALUE;
        int n = slots.size();
        boolean all = n <= sample;
        for (int pass = 0; pass < 2 && best == null; pass++, all = true) {
            for (int i = 0; i < (all ? n : sample); i++) {
                ExpertId id = slots.get(all ? i : random.nextInt(n));
                if (!evictable.test(id)) {
                    continue;
                }
                Score s = resident.get(id);
                double v = score(id, s);
                if (v < bestScore || v == bestScore && s.order < bestOrder) { // ties: the earliest insertion
                    best = id;
                    bestScore = v;
                    bestOrder = s.order;
                }
            }
        }
        if (best != null && incoming != null && !resident.containsKey(incoming)
                && history.layer(incoming.layer()) != null && hitsPerAccess(incoming) < bestScore) {
            return incoming;
        }
        return best;
    }

    /** {@code id}'s score, recomputed once per visit (every call for the layer being routed). */
    private double score(ExpertId id, Score s) {
        long visit = history.clock();
        if (id.layer() == history.current() || s.visit != visit) {
            if (id.layer() != history.current() && snapshotVisit != visit) {
                affinity.snapshot(history);
                snapshotVisit = visit;
            }
            s.value = hitsPerAccess(id);
            s.visit = visit;
        }
        return s.value;
    }

    /** The chance that {@code id} is used at its layer's next visit, per access until then. */
    double hitsPerAccess(ExpertId id) {
        int layer = id.layer();
        int e = id.expert();
        RoutingHistory.Layer l = history.layer(layer);
        int d = history.distance(layer);
        double distance = history.accessesLeftInVisit() + (d - 1) * history.accessesPerVisit();
        if (l == null || e >= l.experts) { // never routed to (e.g. prefetched before first use)
            return odds.chance(-1, 0, 0) / distance;
        }
        boolean current = layer == history.current();
        double p = odds.chance(current && l.now[e] ? 0 : l.age[e], l.relativeFrequency(e), l.longRunFrequency(e));
        if (!current) {
            p *= affinity.lift(history, layer, e, d);
        }
        p = Math.min(p, 1);
        double next = p / distance;
        // the visits after the next one: the chance it is first used there (its age grows while unused), over
        // the accesses it would be held; the best horizon counts (LHD)
        int age = current ? (l.now[e] ? 0 : l.age[e] < 0 ? -1 : l.age[e] + 1) : l.age[e];
        double recent = l.relativeFrequency(e);
        double period = history.accessesPerVisit() * history.cycle();
        double hits = p;
        double survive = 1 - p;
        double held = p * distance;
        for (int j = 2; j <= HORIZON; j++) {
            age = age < 0 ? -1 : age + 1;
            recent *= RoutingHistory.DECAY;
            double at = distance + (j - 1) * period;
            double q = survive * Math.min(1, odds.chance(age, recent, l.longRunFrequency(e)));
            hits += q;
            held += q * at;
            survive -= q;
            next = Math.max(next, hits / (held + survive * at));
        }
        // the rest of the visit in progress may use an expert of its layer sooner than its next visit
        return current ? Math.max(next, history.rateInVisit(e)) : next;
    }
}
