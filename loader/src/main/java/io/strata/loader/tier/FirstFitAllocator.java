package io.strata.loader.tier;

import java.util.Map;
import java.util.TreeMap;

/**
 * Offsets within a fixed range: first fit over an address-ordered free list, coalescing neighbours on free.
 * Fragmentation is real: a request can fail although the free bytes add up to more than it asks.
 */
final class FirstFitAllocator {
    private final long capacity;
    private final long alignment;
    private final TreeMap<Long, Long> free = new TreeMap<>(); // offset -> length
    private long freeBytes;

    public FirstFitAllocator(long capacity, long alignment) {
        this.capacity = capacity;
        this.alignment = alignment;
        if (capacity > 0) {
            free.put(0L, capacity);
        }
        freeBytes = capacity;
    }

    /** The offset of a block of {@code size} (rounded up to the alignment), or -1 when no free run is long enough. */
    public synchronized long allocate(long size) {
        long need = roundUp(Math.max(1, size));
        for (Map.Entry<Long, Long> e : free.entrySet()) {
            if (e.getValue() >= need) {
                long off = e.getKey();
                free.remove(off);
                if (e.getValue() > need) {
                    free.put(off + need, e.getValue() - need);
                }
                freeBytes -= need;
                return off;
            }
        }
        return -1;
    }

    public synchronized void free(long offset, long size) {
        long len = roundUp(Math.max(1, size));
        if (offset < 0 || offset + len > capacity) {
            throw new IllegalArgumentException("free of [" + offset + ", +" + len + ") outside [0, " + capacity + ")");
        }
        Map.Entry<Long, Long> before = free.floorEntry(offset);
        if (before != null && before.getKey() + before.getValue() > offset) {
            throw new IllegalStateException("double free at offset " + offset);
        }
        long start = offset;
        long end = offset + len;
        if (before != null && before.getKey() + before.getValue() == offset) {
            start = before.getKey();
            free.remove(before.getKey());
        }
        Long afterLen = free.get(end);
        if (afterLen != null) {
            free.remove(end);
            end += afterLen;
        }
        free.put(start, end - start);
        freeBytes += len;
    }

    public synchronized long freeBytes() {
        return freeBytes;
    }

    /** The longest block that could be allocated now. */
    public synchronized long largestFree() {
        long max = 0;
        for (long v : free.values()) {
            max = Math.max(max, v);
        }
        return max;
    }

    public long capacity() {
        return capacity;
    }

    private long roundUp(long n) {
        return (n + alignment - 1) / alignment * alignment;
    }
}
