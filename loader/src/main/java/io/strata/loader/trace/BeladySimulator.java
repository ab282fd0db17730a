package io.strata.loader.trace;

import io.strata.core.model.ExpertId;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Belady's MIN: on a miss with a full cache, drop whichever of the residents and the incoming expert is next used
 * farthest in the future (never again counts as farthest). No online policy can hit more often on the same trace
 * and capacity, with or without bypass.
 */
final class BeladySimulator {
    private BeladySimulator() {
    }

    public static long hits(List<RoutingTrace.Access> accesses, int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1 expert, got " + capacity);
        }
        int n = accesses.size();
        long[] next = new long[n];
        Map<ExpertId, Integer> seen = new HashMap<>();
        for (int i = n - 1; i >= 0; i--) {
            ExpertId id = accesses.get(i).id();
            Integer j = seen.put(id, i);
            next[i] = j == null ? Long.MAX_VALUE - i : j; // distinct "never" keys, later ones farther
        }
        Map<ExpertId, Long> residentNext = new HashMap<>();
        TreeMap<Long, ExpertId> byNext = new TreeMap<>();
        long hits = 0;
        for (int i = 0; i < n; i++) {
            ExpertId id = accesses.get(i).id();
            Long cur = residentNext.get(id);
            if (cur != null) {
                hits++;
                byNext.remove(cur);
            } else if (residentNext.size() >= capacity) {
                Map.Entry<Long, ExpertId> far = byNext.lastEntry();
                if (far.getKey() < next[i]) {
                    continue; // the incoming one is needed last: do not keep it
                }
                byNext.pollLastEntry();
                residentNext.remove(far.getValue());
            }
            residentNext.put(id, next[i]);
            byNext.put(next[i], id);
        }
        return hits;
    }
}
