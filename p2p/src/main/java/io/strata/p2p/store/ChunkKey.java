package io.strata.p2p.store;

/** One chunk of one shard of a model. */
public record ChunkKey(int shard, int chunk) implements Comparable<ChunkKey> {
    @Override
    public int compareTo(ChunkKey o) {
        return shard != o.shard ? Integer.compare(shard, o.shard) : Integer.compare(chunk, o.chunk);
    }

    @Override
    public String toString() {
        return "shard " + shard + " chunk " + chunk;
    }
}
