package io.strata.p2p.mesh;

import io.strata.p2p.wire.PeerAddress;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The peers a node knows of, by listen address, and how it knows each: vouched for (given by the user, or seen as a
 * live authenticated peer) or only heard of in gossip, with the distinct network addresses of the peers that
 * reported it. What may be dialled is decided elsewhere ({@code DialPolicy}) from these facts. Bounded in size: when
 * full, an address heard of from one reporter at most makes room, so a PEERS flood cannot push out
 * the peers the node actually met. An address that fails {@code maxFailures} times in a row (refused connection,
 * handshake or keep-alive timeout) is forgotten.
 */
public final class Membership {
    /** Reporters remembered per address (more than any confirmation threshold needs). */
    private static final int MAX_REPORTERS = 8;

    private final int maxKnown;
    private final int maxFailures;
    private final Map<PeerAddress, Entry> known = new ConcurrentHashMap<>();
    private final List<Consumer<PeerAddress>> forgetListeners = new CopyOnWriteArrayList<>();
    private volatile PeerAddress self;

    /** What the node knows of one address. */
    public record Known(PeerAddress address, boolean vouched, int reporters, int failures, long lastAttemptNanos) {
    }

    private static final class Entry {
        boolean vouched;
        final Set<InetAddress> reporters = new HashSet<>();
        int failures;
        long lastAttemptNanos;
        boolean attempted;
        long lastReportNanos = System.nanoTime();

        synchronized Known snapshot(PeerAddress a) {
            return new Known(a, vouched, reporters.size(), failures, attempted ? lastAttemptNanos : Long.MIN_VALUE);
        }
    }

    public Membership(int maxKnown, int maxFailures) {
        this.maxKnown = maxKnown;
        this.maxFailures = maxFailures;
    }

    public void setSelf(PeerAddress self) {
        this.self = self;
        known.remove(self);
    }

    /** An address the user gave (bootstrap peers, explicit dials): vouched for. */
    public void learnFromUser(PeerAddress a) {
        Entry e = entry(a);
        if (e != null) {
            synchronized (e) {
                e.vouched = true;
            }
        }
    }

    /** Addresses heard of in a PEERS frame from the peer at {@code reporter}; returns how many were new. */
    public int learnFromPeer(List<PeerAddress> addresses, InetAddress reporter) {
        int added = 0;
        for (PeerAddress a : addresses) {
            boolean isNew = !known.containsKey(a);
            Entry e = entry(a);
            if (e == null) {
                continue;
            }
            synchronized (e) {
                if (reporter != null && e.reporters.size() < MAX_REPORTERS) {
                    e.reporters.add(reporter);
                }
                e.lastReportNanos = System.nanoTime();
            }
            if (isNew) {
                added++;
            }
        }
        return added;
    }

    /** A live authenticated peer listens at {@code a}: vouched for, failures reset. */
    public void markAlive(PeerAddress a) {
        Entry e = entry(a);
        if (e != null) {
            synchronized (e) {
                e.vouched = true;
                e.failures = 0;
            }
        }
    }

    /** A dial of {@code a} starts now (for back-off between attempts). */
    public void markAttempt(PeerAddress a) {
        Entry e = known.get(a);
        if (e != null) {
            synchronized (e) {
                e.lastAttemptNanos = System.nanoTime();
                e.attempted = true;
            }
        }
    }

    /** Counts a failure; returns true when the address was forgotten because of it. */
    public boolean markFailed(PeerAddress a) {
        Entry e = known.get(a);
        if (e == null) {
            return false;
        }
        synchronized (e) {
            if (++e.failures < maxFailures) {
                return false;
            }
        }
        if (known.remove(a, e)) {
            forgetListeners.forEach(l -> l.accept(a));
        }
        return true;
    }

    public void forget(PeerAddress a) {
        if (known.remove(a) != null) {
            forgetListeners.forEach(l -> l.accept(a));
        }
    }

    /**
     * Forgets addresses known only from gossip that no peer has reported for {@code ttlNanos}: gossip is repeated
     * every round while an address is live, and such an address is never dialled, so it would never fail out.
     */
    public void expireGossip(long ttlNanos) {
        long now = System.nanoTime();
        for (Map.Entry<PeerAddress, Entry> me : known.entrySet()) {
            Entry e = me.getValue();
            boolean stale;
            synchronized (e) {
                stale = !e.vouched && now - e.lastReportNanos > ttlNanos;
            }
            if (stale && known.remove(me.getKey(), e)) {
                forgetListeners.forEach(l -> l.accept(me.getKey()));
            }
        }
    }

    /** Forgets every address on host {@code ip} (a banned host). */
    public void forgetHost(InetAddress ip) {
        for (PeerAddress a : List.copyOf(known.keySet())) {
            if (ip.equals(a.literal())) {
                forget(a);
            }
        }
    }

    /** Called with each address as it is forgotten. */
    public void onForget(Consumer<PeerAddress> l) {
        forgetListeners.add(l);
    }

    public boolean knows(PeerAddress a) {
        return known.containsKey(a);
    }

    public Known known(PeerAddress a) {
        Entry e = known.get(a);
        return e == null ? null : e.snapshot(a);
    }

    public List<PeerAddress> all() {
        return List.copyOf(known.keySet());
    }

    /** Everything known, in random order. */
    public List<Known> shuffled() {
        List<Known> out = new ArrayList<>();
        known.forEach((a, e) -> out.add(e.snapshot(a)));
        Collections.shuffle(out);
        return out;
    }

    /** The entry for {@code a}, created if there is room (made by evicting a gossip-only address); null if not. */
    private Entry entry(PeerAddress a) {
        if (a.equals(self)) {
            return null;
        }
        Entry e = known.get(a);
        if (e != null) {
            return e;
        }
        if (known.size() >= maxKnown && !evictWeakest()) {
            return null;
        }
        return known.computeIfAbsent(a, k -> new Entry());
    }

    private boolean evictWeakest() {
        PeerAddress weakest = null;
        int fewest = Integer.MAX_VALUE;
        for (Map.Entry<PeerAddress, Entry> me : known.entrySet()) {
            Entry e = me.getValue();
            synchronized (e) {
                if (!e.vouched && e.reporters.size() <= 1 && e.reporters.size() < fewest) {
                    fewest = e.reporters.size();
                    weakest = me.getKey();
                }
            }
        }
        return weakest != null && known.remove(weakest) != null;
    }
}
