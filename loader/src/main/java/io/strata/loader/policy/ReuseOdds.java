package io.strata.loader.policy;

/**
 * The chance that an expert is chosen at its layer's next visit, learned online from the model's own routing: a
 * table of observed outcomes indexed by the expert's state (visits since it was last chosen, its recent and its
 * long-run choice frequency, each relative to its layer's mean), filled from every expert of every ended visit.
 * Nothing in it is tuned to a model: how strongly routing repeats token to token, and how skewed a layer's
 * experts are, is whatever the trace shows (Mixtral-8x7B repeats weakly, DeepSeek-V2-Lite strongly). Sparse
 * cells shrink toward the coarser estimate (age and recent frequency, then age alone, then the overall rate), so
 * a rare state borrows from its neighbours instead of guessing. The router weight an expert got was tried as an
 * index too and changed no hit rate on the real traces; the long-run frequency recovers what a decayed count
 * loses when routing is stationary (LFU's case).
 */
final class ReuseOdds {
    private static final int AGES = 10; // 0, 1, 2, 3, 4-5, 6-9, 10-17, 18-33, 34+, never chosen
    private static final int FREQS = 6; // relative frequency < 1/4, 1/2, 1, 2, 4, more
    private static final int LONG_RUN = 4; // long-run frequency < 1/2, 1, 2, more
    /** Pseudo-observations a cell needs before its own rate outweighs the coarser one. */
    private static final double SHRINK = 20;

    private final double[] hits = new double[AGES * FREQS * LONG_RUN];
    private final double[] trials = new double[hits.length];
    private final double[] hitsByAgeFreq = new double[AGES * FREQS];
    private final double[] trialsByAgeFreq = new double[AGES * FREQS];
    private final double[] hitsByAge = new double[AGES];
    private final double[] trialsByAge = new double[AGES];
    private double allHits;
    private double allTrials;

    static int ageBucket(int age) {
        if (age < 0) {
            return AGES - 1;
        }
        if (age < 4) {
            return age;
        }
        return age < 6 ? 4 : age < 10 ? 5 : age < 18 ? 6 : age < 34 ? 7 : 8;
    }

    static int freqBucket(double relative) {
        return relative < 0.25 ? 0 : relative < 0.5 ? 1 : relative < 1 ? 2 : relative < 2 ? 3 : relative < 4 ? 4 : 5;
    }

    static int longRunBucket(double relative) {
        return relative < 0.5 ? 0 : relative < 1 ? 1 : relative < 2 ? 2 : 3;
    }

    /** One expert of an ended visit: its state before the visit, and whether the visit chose it. */
    void learn(int age, double recentFrequency, double longRunFrequency, boolean chosen) {
        int a = ageBucket(age);
        int af = a * FREQS + freqBucket(recentFrequency);
        int c = af * LONG_RUN + longRunBucket(longRunFrequency);
        double o = chosen ? 1 : 0;
        hits[c] += o;
        trials[c]++;
        hitsByAgeFreq[af] += o;
        trialsByAgeFreq[af]++;
        hitsByAge[a] += o;
        trialsByAge[a]++;
        allHits += o;
        allTrials++;
    }

    /** The estimated chance that an expert in this state is chosen at its layer's next visit. */
    double chance(int age, double recentFrequency, double longRunFrequency) {
        int a = ageBucket(age);
        int af = a * FREQS + freqBucket(recentFrequency);
        int c = af * LONG_RUN + longRunBucket(longRunFrequency);
        double overall = (allHits + 1) / (allTrials + 4);
        double byAge = (hitsByAge[a] + SHRINK * overall) / (trialsByAge[a] + SHRINK);
        double byAgeFreq = (hitsByAgeFreq[af] + SHRINK * byAge) / (trialsByAgeFreq[af] + SHRINK);
        return (hits[c] + SHRINK * byAgeFreq) / (trials[c] + SHRINK);
    }
}
