package io.strata.p2p.node;

import io.strata.p2p.mesh.AddressRange;
import io.strata.p2p.mesh.BanList;
import io.strata.p2p.mesh.Membership;
import java.net.InetAddress;
import java.util.List;

/**
 * Which known addresses the node dials on its own (and therefore gossips: it only passes on what it would dial
 * itself). Gossip must not turn a node into a port scanner, so an address is dialled only when all of these hold:
 * its host is an IP literal (no name lookups for strangers) that is not a wildcard, multicast or broadcast address;
 * it lies inside the configured ranges; it is not banned; it was given by the user, seen as a live peer, or reported
 * by peers on at least {@code minReporters} distinct hosts; its previous attempt is older than a back-off that
 * doubles with each failure; and the node has not used up its dial budget (at most {@code dialsPerRound} dials per
 * gossip round). Addresses the user dials explicitly bypass this policy (the user is the authority), bans excepted.
 */
final class DialPolicy {
    private final List<AddressRange> ranges;
    private final int minReporters;
    private final int dialsPerRound;
    private final long backoffNanos;
    private final BanList bans;
    private int budget;

    DialPolicy(List<AddressRange> ranges, int minReporters, int dialsPerRound, long backoffNanos, BanList bans) {
        this.ranges = List.copyOf(ranges);
        this.minReporters = minReporters;
        this.dialsPerRound = dialsPerRound;
        this.backoffNanos = backoffNanos;
        this.bans = bans;
    }

    /** Starts a gossip round: refills the dial budget. */
    synchronized void newRound() {
        budget = dialsPerRound;
    }

    /** Whether {@code k} is an address this node would dial (and may therefore gossip), ignoring the budget. */
    boolean acceptable(Membership.Known k) {
        InetAddress ip = k.address().literal();
        if (ip == null || !dialable(ip) || bans.isBanned(ip)) {
            return false;
        }
        return k.vouched() || k.reporters() >= minReporters;
    }

    /** Takes one dial from the budget when {@code k} may be dialled now. */
    synchronized boolean mayDialNow(Membership.Known k) {
        if (budget <= 0 || !acceptable(k)) {
            return false;
        }
        if (k.lastAttemptNanos() != Long.MIN_VALUE) {
            long wait = backoffNanos << Math.min(k.failures(), 10);
            if (System.nanoTime() - k.lastAttemptNanos() < wait) {
                return false;
            }
        }
        budget--;
        return true;
    }

    /** A host the node may dial at all: in range, and not a wildcard, multicast or broadcast address. */
    boolean dialable(InetAddress ip) {
        if (ip.isAnyLocalAddress() || ip.isMulticastAddress()) {
            return false;
        }
        byte[] b = ip.getAddress();
        if (b.length == 4 && (b[0] & 0xFF) == 255 && (b[1] & 0xFF) == 255 && (b[2] & 0xFF) == 255
                && (b[3] & 0xFF) == 255) {
            return false;
        }
        for (AddressRange r : ranges) {
            if (r.contains(ip)) {
                return true;
            }
        }
        return false;
    }
}
