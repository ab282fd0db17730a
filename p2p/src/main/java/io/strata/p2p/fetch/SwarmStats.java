package io.strata.p2p.fetch;

/** What a swarm did: chunks and bytes accepted, chunks rejected (bad hash or length), peers banned, duplicates. */
public record SwarmStats(long chunks, long bytes, long rejected, long banned, long duplicates, long timeouts) {
}
