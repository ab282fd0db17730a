package io.strata.p2p.fetch;

import io.strata.p2p.store.ChunkKey;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * How many known peers hold each chunk, and the wanted chunks nobody is fetching yet, bucketed by that count, so
 * that the rarest chunk a peer can serve is found without scanning every missing chunk. Not thread-safe: the swarm
 * guards it.
 */
final class RarestFirst {
    private final int[][] availability;
    private final TreeMap<Integer, LinkedHashSet<ChunkKey>> pool = new TreeMap<>();
    private int pooled;

    /** {@code wanted} in the order ties are broken (the swarm shuffles it). */
    RarestFirst(int[] chunksPerShard, Collection<ChunkKey> wanted) {
        availability = new int[chunksPerShard.length][];
        for (int s = 0; s < chunksPerShard.length; s++) {
            availability[s] = new int[chunksPerShard[s]];
        }
        for (ChunkKey k : wanted) {
            offer(k);
        }
    }

    int availability(ChunkKey k) {
        return availability[k.shard()][k.chunk()];
    }

    /** One more peer holds {@code k}. */
    void gained(ChunkKey k) {
        move(k, +1);
    }

    /** One peer fewer holds {@code k}. */
    void lost(ChunkKey k) {
        move(k, -1);
    }

    private void move(ChunkKey k, int delta) {
        int a = availability[k.shard()][k.chunk()];
        boolean wasPooled = removeFrom(a, k);
        availability[k.shard()][k.chunk()] = Math.max(0, a + delta);
        if (wasPooled) {
            pool.computeIfAbsent(availability[k.shard()][k.chunk()], x -> new LinkedHashSet<>()).add(k);
        }
    }

    /** Puts a wanted chunk (back) among those to request; no-op when already there. */
    void offer(ChunkKey k) {
        if (pool.computeIfAbsent(availability(k), x -> new LinkedHashSet<>()).add(k)) {
            pooled++;
        }
    }

    /** Takes {@code k} out of the pool: it is being requested. */
    void take(ChunkKey k) {
        if (removeFrom(availability(k), k)) {
            pooled--;
        }
    }

    /** The rarest pooled chunk that {@code peerHas}, or null. */
    ChunkKey pick(Predicate<ChunkKey> peerHas) {
        for (Map.Entry<Integer, LinkedHashSet<ChunkKey>> e : pool.entrySet()) {
            if (e.getKey() == 0) {
                continue; // nobody has these
            }
            for (ChunkKey k : e.getValue()) {
                if (peerHas.test(k)) {
                    return k;
                }
            }
        }
        return null;
    }

    /** True when every wanted chunk is requested or done: the endgame. */
    boolean isEmpty() {
        return pooled == 0;
    }

    private boolean removeFrom(int bucket, ChunkKey k) {
        LinkedHashSet<ChunkKey> b = pool.get(bucket);
        if (b == null || !b.remove(k)) {
            return false;
        }
        if (b.isEmpty()) {
            pool.remove(bucket);
        }
        return true;
    }
}
