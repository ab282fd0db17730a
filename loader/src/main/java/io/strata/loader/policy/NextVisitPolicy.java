package io.strata.loader.policy;

import io.strata.core.model.ExpertId;
import java.util.LinkedHashMap;
import java.util.Map;
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
 * {@link RoutingHistory#rateInVisit}. Hits per access held is LHD's "hit density" (Beckmann et al., NSDI '18)
 * over a one-visit horizon; longer horizons scored the same on the real traces and cost more.
 * <p>
 * Why not LRU: with a cache smaller than one token's working set, the cyclic sweep makes LRU evict exactly the
 * experts about to be needed (0 hits at 32 of Mixtral's 256 experts), and LRU ignores frequency. Figures and
 * the held-out protocol: {@code TraceReplayTest}. Before any routing is seen every score is equal and the
 * oldest insertion goes first. Cost: each resident is scored once per visit that evicts (a few table lookups
 * per recent layer), the layer being routed at every victim call.
 */
public final class NextVisitPolicy implements EvictionPolicy {
    private final RoutingHistory history = new RoutingHistory();
    private final ReuseOdds odds = new ReuseOdds();
    private final LayerAffinity affinity = new LayerAffinity();
    /** Residents in insertion order (ties go to the earliest), each with its score as of some visit. */
    private final LinkedHashMap<ExpertId, Score> resident = new LinkedHashMap<>();
    private long snapshotVisit = -1;

    /**
     * A resident's score, kept for the rest of the visit it was computed in: only the layer being routed
     * changes within a visit (its experts are scored afresh), and rescoring thousands of residents on every miss
     * would cost more than the misses (DeepSeek-V3's shape: 58 layers x 256 experts).
     */
    private static final class Score {
        double value;
        long visit = -1;
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
        resident.putIfAbsent(id, new Score());
    }

    @Override
    public synchronized void removed(ExpertId id) {
        resident.remove(id);
    }

    @Override
    public synchronized ExpertId victim(ExpertId incoming, Predicate<ExpertId> evictable) {
        long visit = history.clock();
        int current = history.current();
        ExpertId best = null;
        double bestScore = Double.POSITIVE_INFINITY;
        for (Map.Entry<ExpertId, Score> r : resident.entrySet()) {
            ExpertId id = r.getKey();
            if (!evictable.test(id)) {
                continue;
            }
            Score s = r.getValue();
            if (id.layer() == current || s.visit != visit) {
                if (id.layer() != current && snapshotVisit != visit) {
                    affinity.snapshot(history);
                    snapshotVisit = visit;
                }
                s.value = hitsPerAccess(id);
                s.visit = visit;
            }
            if (s.value < bestScore) { // strict: ties keep the earliest insertion
                best = id;
                bestScore = s.value;
            }
        }
        return best;
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
        double next = Math.min(p, 1) / distance;
        // the rest of the visit in progress may use an expert of its layer sooner than its next visit
        return current ? Math.max(next, history.rateInVisit(e)) : next;
    }
}
