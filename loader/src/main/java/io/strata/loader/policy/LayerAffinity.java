package io.strata.loader.policy;

/**
 * Which experts one layer's router picks given what an earlier layer picked for the same token, learned online.
 * Routing of one token is correlated across layers (Mixtral-8x7B: knowing layer l's top-2 lifts the precision of
 * a top-2 guess at layer l+1..l+4 from 0.33 to 0.42-0.47; DeepSeek-V2-Lite, top-6 of 64: from 0.21-0.38 to
 * 0.43-0.50), so when a token is half way through the model, the experts its remaining layers will want are far
 * from uniformly likely. The table counts, for every ordered pair of layers less than one cycle apart, how often
 * expert e at the earlier one came with expert e2 at the later one, and {@link #lift} turns the choices of the
 * most recent layers (the one in progress included) into a factor on an expert's chance at its layer's next
 * visit (tempered naive Bayes).
 * <p>
 * Memory is bounded: the full table has layers^2 x experts^2 cells; when that exceeds {@link #MAX_CELLS} the
 * earlier layer's experts are folded into fewer buckets (expert mod buckets), which merges their statistics and
 * moves the lift toward 1 (no information) rather than biasing it; past ~128 layers x 256 experts not even one
 * bucket fits, and the lift stays 1.
 */
final class LayerAffinity {
    /** At most this many float counters (16 MiB). */
    static final int MAX_CELLS = 1 << 22;
    /** Most recent ended visits that vote on a later layer. */
    private static final int SOURCES = 4;
    /** Exponent on the product of the sources' lifts: the votes are correlated, so they count for less. */
    private static final double TEMPER = 0.5;
    /** Pseudo-observations of the layer's base rate in each conditional estimate. */
    private static final double PRIOR = 2;

    private int layerCap;  // power of two > every layer id seen
    private int expertCap; // power of two > every expert id seen
    private int buckets;   // power of two <= expertCap: source experts are counted modulo this
    private boolean disabled;
    private float[] pairs = new float[0];   // [src][dst][bucket(e)][e2]
    private float[] sources = new float[0]; // [src][dst][bucket(e)]
    // the snapshot: visits back from the one in progress, the layer and the experts it chose
    private final int[] recentLayers = new int[SOURCES + 1];
    private final int[][] recentSets = new int[SOURCES + 1][];
    private int recentCount;
    private int cycle;

    /**
     * Learns from the visit of {@code dst} that just ended (still the history's current one) and chose
     * {@code chosen}: every other layer visited within the cycle before it contributes its latest choices.
     */
    void learn(RoutingHistory h, int dst, int[] chosen) {
        for (int back = 1; back < h.cycle(); back++) {
            int src = h.visitedBefore(back);
            if (src < 0 || src == dst) {
                continue;
            }
            int[] from = h.layer(src).lastSet;
            for (int e : from) {
                ensure(src, dst, e, chosen);
                if (disabled) {
                    return;
                }
                int b = e & (buckets - 1);
                sources[sourceIndex(src, dst, b)]++;
                for (int e2 : chosen) {
                    pairs[pairIndex(src, dst, b, e2)]++;
                }
            }
        }
    }

    /**
     * Takes the current token's latest choices, most recent first (the visit in progress included, its choices
     * so far), for the {@link #lift} calls that follow; call again when routing has moved on.
     */
    void snapshot(RoutingHistory h) {
        recentCount = 0;
        for (int back = 0; back < h.cycle(); back++) {
            int src = h.visitedBefore(back);
            if (src < 0) {
                break;
            }
            int[] set = back == 0 ? h.choicesNow(src) : h.layer(src).lastSet;
            recentLayers[recentCount] = src;
            recentSets[recentCount++] = set;
            if (recentCount == recentLayers.length) {
                break;
            }
        }
        cycle = h.cycle();
    }

    /**
     * The factor by which the current token's choices (as of the last {@link #snapshot}) change expert
     * {@code e2}'s chance at the next visit of {@code dst}, {@code distance} visits from now; 1 when nothing of
     * the token that precedes that visit is known.
     */
    double lift(RoutingHistory h, int dst, int e2, int distance) {
        RoutingHistory.Layer target = h.layer(dst);
        if (disabled || target == null || target.visits == 0 || dst >= layerCap || e2 >= expertCap) {
            return 1;
        }
        double base = target.baseRate(e2);
        double product = 1;
        int used = 0;
        for (int back = 0; back < recentCount && back + distance < cycle && used < SOURCES; back++) {
            int src = recentLayers[back];
            int[] from = recentSets[back];
            if (src == dst || src >= layerCap || from.length == 0) {
                continue;
            }
            double sum = 0;
            for (int e : from) {
                int b = e & (buckets - 1);
                double n = sources[sourceIndex(src, dst, b)];
                double both = pairs[pairIndex(src, dst, b, e2)];
                sum += (both + PRIOR * base) / (n + PRIOR) / base;
            }
            product *= sum / from.length;
            used++;
        }
        return used == 0 ? 1 : Math.pow(product, TEMPER);
    }

    private int sourceIndex(int src, int dst, int b) {
        return (src * layerCap + dst) * buckets + b;
    }

    private int pairIndex(int src, int dst, int b, int e2) {
        return sourceIndex(src, dst, b) * expertCap + e2;
    }

    /** Grows the table to hold the ids given, folding source buckets when the cells would exceed the bound. */
    private void ensure(int src, int dst, int e, int[] chosen) {
        int maxExpert = e;
        for (int e2 : chosen) {
            maxExpert = Math.max(maxExpert, e2);
        }
        if (disabled || Math.max(src, dst) < layerCap && maxExpert < expertCap) {
            return;
        }
        int lc = Math.max(layerCap, powerOfTwoAbove(Math.max(src, dst)));
        int ec = Math.max(expertCap, powerOfTwoAbove(maxExpert));
        int b = ec;
        while (b > 1 && (long) lc * lc * b * ec > MAX_CELLS) {
            b >>= 1;
        }
        if (lc > MAX_CELLS || ec > MAX_CELLS || (long) lc * lc * b * ec > MAX_CELLS) {
            // not even one bucket fits: learn nothing, lift 1
            disabled = true;
            pairs = new float[0];
            sources = new float[0];
            return;
        }
        float[] newPairs = new float[Math.toIntExact((long) lc * lc * b * ec)];
        float[] newSources = new float[lc * lc * b];
        int oldL = layerCap;
        int oldE = expertCap;
        int oldB = buckets;
        float[] oldPairs = pairs;
        float[] oldSources = sources;
        layerCap = lc;
        expertCap = ec;
        buckets = b;
        for (int s = 0; s < oldL; s++) {
            for (int d = 0; d < oldL; d++) {
                for (int ob = 0; ob < oldB; ob++) {
                    // either b divides oldB (a fold: each old bucket lands in exactly one new one) or the old buckets
                    // were whole experts (oldB == oldE <= b) and keep their index
                    int nb = ob & (b - 1);
                    int oldSource = (s * oldL + d) * oldB + ob;
                    newSources[sourceIndex(s, d, nb)] += oldSources[oldSource];
                    for (int e2 = 0; e2 < oldE; e2++) {
                        newPairs[pairIndex(s, d, nb, e2)] += oldPairs[oldSource * oldE + e2];
                    }
                }
            }
        }
        pairs = newPairs;
        sources = newSources;
    }

    /** The least power of two above {@code x}; MAX_VALUE (too large for any table) from 2^30 on. */
    private static int powerOfTwoAbove(int x) {
        return x == 0 ? 1 : x >= 1 << 30 ? Integer.MAX_VALUE : Integer.highestOneBit(x) << 1;
    }

    /** Cells allocated (for tests of the memory bound). */
    int cells() {
        return pairs.length + sources.length;
    }

    /** Source-expert buckets in use: the layer's expert count while the full table fits. */
    int buckets() {
        return buckets;
    }
}
