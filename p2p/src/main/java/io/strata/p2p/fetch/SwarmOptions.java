package io.strata.p2p.fetch;

import java.time.Duration;

/**
 * Tuning of a {@link ChunkSwarm}: requests in flight per peer, how many peers may be asked for the same chunk at the
 * tail (endgame), timeouts a peer may accumulate before it is dropped, and how long the swarm may go without any
 * progress and without any request in flight before it gives up.
 */
public record SwarmOptions(int inFlightPerPeer, int endgameDuplicates, int timeoutsBeforeDrop, Duration stallTimeout,
                           int verifyThreads) {
    public static SwarmOptions defaults() {
        return new SwarmOptions(32, 2, 3, Duration.ofSeconds(30),
                Math.max(2, Runtime.getRuntime().availableProcessors()));
    }

    public SwarmOptions withStallTimeout(Duration d) {
        return new SwarmOptions(inFlightPerPeer, endgameDuplicates, timeoutsBeforeDrop, d, verifyThreads);
    }

    public SwarmOptions withInFlightPerPeer(int n) {
        return new SwarmOptions(n, endgameDuplicates, timeoutsBeforeDrop, stallTimeout, verifyThreads);
    }
}
