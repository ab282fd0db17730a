package io.strata.loader.kv;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * A few freed page blocks kept for the next page of the same size. Under spill pressure every restore follows an
 * eviction; reusing the evicted block saves a shared-arena close (a thread handshake, tens of microseconds) per
 * page. Kept blocks stay reserved in the ledger, so the budget still counts every byte that is allocated.
 * Not thread-safe: used under the store lock.
 */
final class BlockRecycler {
    private final int capacity;
    private final Map<Long, ArrayDeque<PageBlock>> free = new HashMap<>();
    private int count;

    BlockRecycler(int capacity) {
        this.capacity = capacity;
    }

    PageBlock take(long bytes) {
        ArrayDeque<PageBlock> q = free.get(bytes);
        PageBlock b = q == null ? null : q.pollFirst();
        if (b != null) {
            count--;
        }
        return b;
    }

    /** Keeps {@code block} for reuse, or frees it when enough are kept. */
    void give(PageBlock block) {
        if (count >= capacity) {
            block.free();
            return;
        }
        free.computeIfAbsent(block.bytes(), k -> new ArrayDeque<>()).addLast(block);
        count++;
    }

    boolean isEmpty() {
        return count == 0;
    }

    /** Frees every kept block; returns the bytes released to the ledger. */
    long drain() {
        long released = 0;
        for (ArrayDeque<PageBlock> q : free.values()) {
            for (PageBlock b : q) {
                released += b.bytes();
                b.free();
            }
            q.clear();
        }
        count = 0;
        return released;
    }
}
