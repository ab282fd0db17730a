package io.strata.loader.policy;

import java.util.Arrays;

/**
 * What the router has done so far, as an online cache policy can know it: a decoder visits its MoE layers in a
 * fixed cycle (all of layer L's routing for a step, then the next layer), so the stream of demand accesses is cut
 * into <em>visits</em> (a run of accesses to one layer) and the position in the cycle tells how far each layer's
 * next visit is. Layer ids need not be contiguous or start at 0 (DeepSeek's MoE layers are 1..26); the cycle is
 * the number of distinct layers seen. Per (layer, expert) it keeps the visits since the expert was last chosen, a decayed count of its
 * choices and its count since start; per layer the set chosen at its latest visit. When a
 * visit ends, {@link ReuseOdds} learns from the state before it, {@link #close} folds it in, and
 * {@link LayerAffinity} learns from its choices.
 * Not thread-safe: {@link NextVisitPolicy} serialises access.
 */
final class RoutingHistory {
    /** Per-visit decay of the choice counts: a half-life of about 23 visits of a layer (tokens). */
    static final double DECAY = 0.97;

    /** One MoE layer's routing. Arrays are indexed by expert and grow with the largest id seen. */
    static final class Layer {
        int experts;                     // largest expert id seen + 1
        int[] age = new int[0];          // visits since last chosen; -1 = never chosen
        double[] freq = new double[0];   // decayed choice count
        double[] chosen = new double[0]; // choices since start (undecayed)
        boolean[] now = new boolean[0];  // chosen in the visit in progress
        int accessesNow;                 // accesses in the visit in progress, repeats included
        int distinctNow;                 // experts chosen in the visit in progress
        int[] countNow = new int[0];     // per expert, accesses in the visit in progress
        double decayedPicks;             // decayed count of all choices of the layer
        double picks;                    // all choices of the layer since start
        long visits;                     // completed visits
        long lastVisit = -1;             // clock of the latest visit (completed or in progress)
        int[] lastSet = new int[0];      // experts chosen at the latest completed visit

        void grow(int expert) {
            if (expert >= age.length) {
                int n = Math.max(expert + 1, 2 * age.length);
                int old = age.length;
                age = Arrays.copyOf(age, n);
                Arrays.fill(age, old, n, -1);
                freq = Arrays.copyOf(freq, n);
                chosen = Arrays.copyOf(chosen, n);
                now = Arrays.copyOf(now, n);
                countNow = Arrays.copyOf(countNow, n);
            }
            experts = Math.max(experts, expert + 1);
        }

        boolean tracked(int expert) {
            return expert < experts && age[expert] >= 0;
        }

        /** Decayed choice count relative to the layer's mean: 1 = an average expert of this layer. */
        double relativeFrequency(int expert) {
            return decayedPicks <= 0 || expert >= experts ? 0 : freq[expert] * experts / decayedPicks;
        }

        /** Choices since start relative to the layer's mean: 1 = an average expert of this layer. */
        double longRunFrequency(int expert) {
            return picks <= 0 || expert >= experts ? 0 : chosen[expert] * experts / picks;
        }

        /** Long-run share of visits that chose {@code expert}, lightly smoothed. */
        double baseRate(int expert) {
            return ((expert < experts ? chosen[expert] : 0) + 0.5) / (visits + 1);
        }
    }

    private Layer[] layers = new Layer[0];
    private int[] visitedLayer = new int[64]; // ring: the layer of visit number c at c % length
    private int cycle;                         // distinct layers seen
    private int current = -1;
    private long clock;                        // visits begun
    private double repeatShare;                // moving average over visits: share of accesses that repeat one
    private double accessesPerVisit;           // moving average over visits

    Layer layer(int l) {
        return l < layers.length ? layers[l] : null;
    }

    int current() {
        return current;
    }

    /** Visits begun so far: a new value means a new visit. */
    long clock() {
        return clock;
    }

    int cycle() {
        return Math.max(1, cycle);
    }

    /**
     * Begins a visit of {@code layer}. The visit in progress, if any, must have been {@link #close closed}
     * (after the learners read it).
     */
    void enter(int layer) {
        if (layer >= layers.length) {
            layers = Arrays.copyOf(layers, Math.max(layer + 1, 2 * layers.length));
        }
        if (layers[layer] == null) {
            layers[layer] = new Layer();
            cycle++;
            if (cycle > visitedLayer.length) {
                visitedLayer = ringResized(2 * cycle);
            }
        }
        current = layer;
        clock++;
        layers[layer].lastVisit = clock;
        visitedLayer[(int) (clock % visitedLayer.length)] = layer;
    }

    private int[] ringResized(int n) {
        int[] r = new int[n];
        for (long c = Math.max(1, clock - visitedLayer.length + 1); c <= clock; c++) {
            r[(int) (c % n)] = visitedLayer[(int) (c % visitedLayer.length)];
        }
        return r;
    }

    /** The router chose {@code expert} of the current layer. */
    void chose(int expert) {
        Layer l = layers[current];
        l.grow(expert);
        if (!l.now[expert]) {
            l.distinctNow++;
        }
        l.now[expert] = true;
        l.countNow[expert]++;
        l.accessesNow++;
    }

    /**
     * The chance, per access, that the rest of the visit in progress uses {@code expert} of its layer; 0 when the
     * visit is expected to be over. An expert it has not used yet: the expert's share of the layer's recent
     * choices. One it used: 0 when decoding one token at a time (top-k experts are distinct), large when a visit
     * routes a batch or a prompt: the share of accesses that repeat an expert (the larger of a moving average
     * over ended visits and the share so far in this visit) times the expert's share of this visit's accesses.
     */
    double rateInVisit(int expert) {
        Layer l = current < 0 ? null : layers[current];
        if (l == null || accessesPerVisit - l.accessesNow <= 0 || expert >= l.experts) {
            return 0;
        }
        if (l.countNow[expert] == 0) {
            return l.decayedPicks <= 0 ? 0 : l.freq[expert] / l.decayedPicks;
        }
        double repeats = Math.max(repeatShare, (double) (l.accessesNow - l.distinctNow) / l.accessesNow);
        return repeats * l.countNow[expert] / l.accessesNow;
    }

    /** The experts chosen so far in the visit of {@code layer} in progress (the current one). */
    int[] choicesNow(int layer) {
        Layer l = layers[layer];
        int[] set = new int[l.distinctNow];
        for (int e = 0, i = 0; i < set.length; e++) {
            if (l.now[e]) {
                set[i++] = e;
            }
        }
        return set;
    }

    /** Folds the ended visit of {@code layer} into its per-expert state. */
    void close(int layer) {
        Layer l = layers[layer];
        int[] set = choicesNow(layer);
        if (l.accessesNow > 0) {
            repeatShare += 0.25 * ((double) (l.accessesNow - set.length) / l.accessesNow - repeatShare);
            accessesPerVisit = accessesPerVisit == 0 ? l.accessesNow
                    : accessesPerVisit + 0.25 * (l.accessesNow - accessesPerVisit);
        }
        l.accessesNow = 0;
        l.distinctNow = 0;
        l.decayedPicks = l.decayedPicks * DECAY + set.length;
        l.picks += set.length;
        for (int e = 0; e < l.experts; e++) {
            l.freq[e] *= DECAY;
            if (l.now[e]) {
                l.freq[e] += 1;
                l.chosen[e] += 1;
                l.age[e] = 0;
                l.now[e] = false;
                l.countNow[e] = 0;
            } else if (l.age[e] >= 0) {
                l.age[e]++;
            }
        }
        l.lastSet = set;
        l.visits++;
    }

    /** Visits from now until {@code layer} is routed again (at least 1; a full cycle for the current layer). */
    int distance(int layer) {
        Layer l = layer(layer);
        if (layer == current) {
            return cycle();
        }
        if (l == null || l.lastVisit < 0) {
            return 1;
        }
        return (int) Math.max(1, cycle() - (clock - l.lastVisit));
    }

    /** Accesses expected before the visit in progress ends (at least 1). */
    double accessesLeftInVisit() {
        Layer l = current < 0 ? null : layers[current];
        return Math.max(1, accessesPerVisit - (l == null ? 0 : l.accessesNow));
    }

    /** A visit's accesses, on average (at least 1). */
    double accessesPerVisit() {
        return Math.max(1, accessesPerVisit);
    }

    /** The layer visited {@code back} visits ago (0 = the visit in progress), or -1 when not known. */
    int visitedBefore(int back) {
        if (back < 0 || back >= visitedLayer.length || back >= clock) {
            return -1;
        }
        return visitedLayer[(int) ((clock - back) % visitedLayer.length)];
    }
}
