package io.strata.core.util;

import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.SequencedSet;

/**
 * Recency order over a set of keys: the one ordering primitive behind every least-recently-used choice in Strata
 * (the LRU expert policy, the disk cache's blob order, the KV cache's tier orders). {@link #touch} makes a key
 * the most recent; iteration runs from the least recent. Not thread-safe: its owner's lock guards it.
 */
public final class LruOrder<K> implements Iterable<K> {
    private final LinkedHashSet<K> order = new LinkedHashSet<>();

    /** Adds {@code key} as the most recent (moving it there if present). */
    public void add(K key) {
        order.remove(key);
        order.add(key);
    }

    /** Makes a present key the most recent; returns false (and adds nothing) when it is absent. */
    public boolean touch(K key) {
        if (!order.remove(key)) {
            return false;
        }
        order.add(key);
        return true;
    }

    public boolean remove(K key) {
        return order.remove(key);
    }

    public boolean contains(K key) {
        return order.contains(key);
    }

    /** The least recent key, or null when empty. */
    public K oldest() {
        return order.isEmpty() ? null : order.getFirst();
    }

    public int size() {
        return order.size();
    }

    public boolean isEmpty() {
        return order.isEmpty();
    }

    /** Least recent first. */
    @Override
    public Iterator<K> iterator() {
        return order.iterator();
    }

    /** Most recent first. */
    public Iterable<K> newestFirst() {
        SequencedSet<K> r = order.reversed();
        return r;
    }
}
