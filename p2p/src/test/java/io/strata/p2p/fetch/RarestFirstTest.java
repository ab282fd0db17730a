package io.strata.p2p.fetch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.p2p.store.ChunkKey;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RarestFirstTest {
    private static ChunkKey k(int s, int c) {
        return new ChunkKey(s, c);
    }

    @Test
    void picksTheRarestChunkThePeerHasAndTracksRequests() {
        List<ChunkKey> wanted = List.of(k(0, 0), k(0, 1), k(1, 0), k(1, 1));
        RarestFirst r = new RarestFirst(new int[]{2, 2}, wanted);
        assertNull(r.pick(x -> true), "nobody has anything yet");
        // three peers have everything, one more has (0,1) and (1,1): those are the common ones
        for (int peer = 0; peer < 3; peer++) {
            wanted.forEach(r::gained);
        }
        r.gained(k(0, 1));
        r.gained(k(1, 1));
        assertEquals(k(0, 0), r.pick(x -> true), "rarest first, ties in the given order");
        assertEquals(k(1, 0), r.pick(x -> !x.equals(k(0, 0))));
        Set<ChunkKey> peerHas = Set.of(k(0, 1), k(1, 1));
        assertEquals(k(0, 1), r.pick(peerHas::contains), "a peer without the rare ones gets a common one");

        r.take(k(0, 0));
        r.take(k(1, 0));
        assertEquals(k(0, 1), r.pick(x -> true));
        r.lost(k(1, 1));
        r.lost(k(1, 1)); // (1,1) is now rarer than (0,1)
        assertEquals(k(1, 1), r.pick(x -> true));
        r.take(k(0, 1));
        r.take(k(1, 1));
        assertTrue(r.isEmpty(), "everything requested: endgame");
        r.offer(k(1, 0)); // a failed request goes back
        r.offer(k(1, 0));
        assertFalse(r.isEmpty());
        assertEquals(k(1, 0), r.pick(x -> true));
        r.take(k(1, 0));
        assertTrue(r.isEmpty(), "offered twice, pooled once");
        assertEquals(3, r.availability(k(1, 0)));
    }
}
