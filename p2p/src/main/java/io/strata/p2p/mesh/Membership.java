package io.strata.p2p.mesh;

import io.strata.p2p.wire.PeerAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The peers a node knows of, by listen address: learned from its bootstrap list, from gossip (PEERS frames) and
 * from peers that connect to it. Bounded in size; an address that fails {@code maxFailures} times in a row (refused
 * connection, handshake or keep-alive timeout) is forgotten.
 */
public final class Membership {
    private final int maxKnown;
    private final int maxFailures;
    private final Map<PeerAddress, Entry> known = new ConcurrentHashMap<>();
    private final java.util.List<java.util.function.Consumer<PeerAddress>> forgetListeners =
            new java.util.concurrent.CopyOnWriteArrayList<>();
    private volatile PeerAddress self;

    private static final class Entry {
        int failures;
        long lastSeenNanos;
    }

    public Membership(int maxKnown, int maxFailures) {
        this.maxKnown = maxKnown;
        this.maxFailures = maxFailures;
    }

    public void setSelf(PeerAddress self) {
        this.self = self;
        known.remove(self);
    }

    /** Adds addresses heard of (bounded); returns how many were new. */
    public int learn(List<PeerAddress> addresses) {
        int added = 0;
        for (PeerAddress a : addresses) {
            if (a.equals(self) || known.size() >= maxKnown) {
                continue;
            }
            if (known.putIfAbsent(a, new Entry()) == null) {
                added++;
            }
        }
        return added;
    }

    public void markAlive(PeerAddress a) {
        if (a.equals(self)) {
            return;
        }
        if (!known.containsKey(a) && known.size() >= maxKnown) {
            return;
        }
        Entry e = known.computeIfAbsent(a, k -> new Entry());
        synchronized (e) {
            e.failures = 0;
            e.lastSeenNanos = System.nanoTime();
        }
    }

    /** Counts a failure; returns true when the address was forgotten because of it. */
    public boolean markFailed(PeerAddress a) {
        Entry e = known.get(a);
        if (e == null) {
            return false;
        }
        synchronized (e) {
            if (++e.failures >= maxFailures) {
                known.remove(a, e);
                forgetListeners.forEach(l -> l.accept(a));
                return true;
            }
        }
        return false;
    }

    public void forget(PeerAddress a) {
        if (known.remove(a) != null) {
            forgetListeners.forEach(l -> l.accept(a));
        }
    }

    /** Called with each address as it is forgotten. */
    public void onForget(java.util.function.Consumer<PeerAddress> l) {
        forgetListeners.add(l);
    }

    public boolean knows(PeerAddress a) {
        return known.containsKey(a);
    }

    public List<PeerAddress> all() {
        return List.copyOf(known.keySet());
    }

    /** Up to {@code n} known addresses in random order (what a node gossips). */
    public List<PeerAddress> sample(int n) {
        List<PeerAddress> all = new ArrayList<>(known.keySet());
        Collections.shuffle(all);
        return all.subList(0, Math.min(n, all.size()));
    }
}
