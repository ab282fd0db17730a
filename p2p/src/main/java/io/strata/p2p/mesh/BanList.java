package io.strata.p2p.mesh;

import io.strata.p2p.identity.NodeId;
import io.strata.p2p.wire.PeerAddress;
import java.net.InetAddress;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Peers this node will not talk to for a while, by node id and by network address (IP). A key costs an attacker
 * nothing, so a ban also covers the address it came from: a fresh key from there is refused too, and nothing on
 * that address is dialled. Bans decay: an address is banned for {@code addressBan} the first time, twice as long for
 * each further offence while the previous ban is remembered (up to {@code maxAddressBan}), and forgiven after a
 * quiet spell as long as its longest ban; keys are banned for {@code keyBan}. Both tables are bounded (the
 * soonest-expiring entry makes room), so a flood of offenders cannot grow memory.
 */
public final class BanList {
    private static final int MAX_ENTRIES = 4096;

    private final long keyBanNanos;
    private final long addressBanNanos;
    private final long maxAddressBanNanos;
    private final Map<NodeId, Entry> ids = new ConcurrentHashMap<>();
    private final Map<InetAddress, Entry> addresses = new ConcurrentHashMap<>();

    private static final class Entry {
        final String reason;
        final long until;
        final int strikes;

        Entry(String reason, long until, int strikes) {
            this.reason = reason;
            this.until = until;
            this.strikes = strikes;
        }
    }

    public BanList(Duration keyBan, Duration addressBan, Duration maxAddressBan) {
        this.keyBanNanos = keyBan.toNanos();
        this.addressBanNanos = addressBan.toNanos();
        this.maxAddressBanNanos = Math.max(addressBan.toNanos(), maxAddressBan.toNanos());
    }

    /** Bans {@code id} and the address {@code ip} (either may be null) for {@code reason}. */
    public void ban(NodeId id, InetAddress ip, String reason) {
        long now = System.nanoTime();
        if (id != null) {
            ids.put(id, new Entry(reason, now + keyBanNanos, 1));
            bound(ids, now);
        }
        if (ip != null) {
            addresses.compute(ip, (k, old) -> {
                boolean remembered = old != null && now - old.until < maxAddressBanNanos;
                int strikes = remembered ? Math.min(old.strikes + 1, 30) : 1;
                long length = Math.min(maxAddressBanNanos, addressBanNanos << Math.min(strikes - 1, 20));
                return new Entry(reason, now + Math.max(length, 0), strikes);
            });
            bound(addresses, now);
        }
    }

    public boolean isBanned(NodeId id) {
        return id != null && active(ids.get(id));
    }

    public boolean isBanned(InetAddress ip) {
        return ip != null && active(addresses.get(ip));
    }

    /** True when {@code a}'s host is an IP literal that is banned (host names are checked once resolved). */
    public boolean isBanned(PeerAddress a) {
        return a != null && isBanned(a.literal());
    }

    public String reason(NodeId id) {
        Entry e = ids.get(id);
        return active(e) ? e.reason : null;
    }

    /** Node ids banned now. */
    public int size() {
        return (int) ids.values().stream().filter(BanList::active).count();
    }

    /** Addresses banned now. */
    public int addressCount() {
        return (int) addresses.values().stream().filter(BanList::active).count();
    }

    /** Drops bans that expired and address strikes no longer remembered (periodic housekeeping). */
    public void purge() {
        long now = System.nanoTime();
        ids.values().removeIf(e -> now - e.until > 0);
        addresses.values().removeIf(e -> now - e.until > maxAddressBanNanos);
    }

    private static boolean active(Entry e) {
        return e != null && System.nanoTime() - e.until < 0;
    }

    private static <K> void bound(Map<K, Entry> m, long now) {
        while (m.size() > MAX_ENTRIES) {
            K soonest = null;
            long best = Long.MAX_VALUE;
            for (Map.Entry<K, Entry> e : m.entrySet()) {
                long left = e.getValue().until - now;
                if (left < best) {
                    best = left;
                    soonest = e.getKey();
                }
            }
            if (soonest == null || m.remove(soonest) == null) {
                return;
            }
        }
    }
}
