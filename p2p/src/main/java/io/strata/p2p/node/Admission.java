package io.strata.p2p.node;

import java.net.InetAddress;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;

/**
 * Who may hold a connection slot: the node's one admission policy. Keys are free, so slots are counted per network
 * address (IP) as well as in total. Before the handshake a connection holds a handshake slot (bounded in total and
 * per address; the handshake has its own timeout). After it, a newcomer over the per-address or total limit takes
 * the slot of the least useful established connection (on the same address, or anywhere for the total): one that
 * has been connected longer than the grace period and has not moved a chunk either way within it, the longest-idle
 * first. When every slot is held by useful or new connections, the newcomer is refused. Peers that serve or fetch
 * data therefore keep their slots, and a crowd of idle identities cannot lock honest peers out. The policy governs
 * connections that peers open; those this node opens (to peers the user named, or within the dial policy's budget)
 * are not refused, but they do occupy slots in the total.
 */
final class Admission {
    private final int maxTotal;
    private final int maxPerAddress;
    private final int maxHandshakes;
    private final long graceNanos;
    private final Map<InetAddress, Integer> handshaking = new HashMap<>();
    private int handshakingTotal;

    /** What to do with an authenticated newcomer: admit it (evicting {@code victim} first, if not null) or not. */
    record Decision(boolean admit, PeerConnection victim, String why) {
        static final Decision ADMIT = new Decision(true, null, null);
    }

    Admission(int maxTotal, int maxPerAddress, int maxHandshakes, long graceNanos) {
        this.maxTotal = maxTotal;
        this.maxPerAddress = maxPerAddress;
        this.maxHandshakes = maxHandshakes;
        this.graceNanos = graceNanos;
    }

    /** A channel opened: takes a handshake slot, or returns false when none is free (close it). */
    synchronized boolean beginHandshake(InetAddress ip) {
        int here = handshaking.getOrDefault(ip, 0);
        if (handshakingTotal >= maxHandshakes || here >= maxPerAddress) {
            return false;
        }
        handshaking.put(ip, here + 1);
        handshakingTotal++;
        return true;
    }

    /** The handshake ended (authenticated or closed): frees its slot. */
    synchronized void endHandshake(InetAddress ip) {
        Integer here = handshaking.get(ip);
        if (here == null) {
            return;
        }
        if (here <= 1) {
            handshaking.remove(ip);
        } else {
            handshaking.put(ip, here - 1);
        }
        handshakingTotal--;
    }

    /** Decides on {@code newcomer} given the {@code established} connections (other peer ids, all open). */
    Decision admit(PeerConnection newcomer, Collection<PeerConnection> established) {
        long now = System.nanoTime();
        int sameAddress = 0;
        for (PeerConnection c : established) {
            if (c.remoteIp().equals(newcomer.remoteIp())) {
                sameAddress++;
            }
        }
        if (sameAddress >= maxPerAddress) {
            PeerConnection v = leastUseful(established, newcomer.remoteIp(), now);
            return v != null ? new Decision(true, v, null) : new Decision(false, null,
                    maxPerAddress + " connections from " + newcomer.remoteIp().getHostAddress() + " already");
        }
        if (established.size() >= maxTotal) {
            PeerConnection v = leastUseful(established, null, now);
            return v != null ? new Decision(true, v, null)
                    : new Decision(false, null, "all " + maxTotal + " connection slots are in use");
        }
        return Decision.ADMIT;
    }

    /** The evictable connection (on {@code ip}, or anywhere when null) idle longest; null when none may go. */
    private PeerConnection leastUseful(Collection<PeerConnection> cs, InetAddress ip, long now) {
        PeerConnection best = null;
        for (PeerConnection c : cs) {
            if (ip != null && !ip.equals(c.remoteIp())) {
                continue;
            }
            if (now - c.admittedNanos() < graceNanos || now - c.usefulNanos() < graceNanos) {
                continue;
            }
            if (best == null || c.usefulNanos() - best.usefulNanos() < 0) {
                best = c;
            }
        }
        return best;
    }
}
