package io.strata.text;

import java.util.Arrays;

/** A binary min-heap of longs: merge candidates keyed by (rank or negated score) in the high bits, position low. */
final class LongHeap {
    private long[] a;
    private int size;

    LongHeap(int capacity) {
        a = new long[Math.max(4, capacity)];
    }

    boolean isEmpty() {
        return size == 0;
    }

    void push(long v) {
        if (size == a.length) {
            a = Arrays.copyOf(a, size * 2);
        }
        int i = size++;
        while (i > 0) {
            int p = (i - 1) >>> 1;
            if (a[p] <= v) {
                break;
            }
            a[i] = a[p];
            i = p;
        }
        a[i] = v;
    }

    long pop() {
        long top = a[0];
        long last = a[--size];
        int i = 0;
        while (true) {
            int l = 2 * i + 1;
            if (l >= size) {
                break;
            }
            int c = l + 1 < size && a[l + 1] < a[l] ? l + 1 : l;
            if (a[c] >= last) {
                break;
            }
            a[i] = a[c];
            i = c;
        }
        if (size > 0) {
            a[i] = last;
        }
        return top;
    }
}
