package io.strata.p2p.wire;

import java.util.Arrays;

/** A fixed-size set of chunk indices (one shard's have-map). Thread-safe: every method is synchronized. */
public final class Bitfield {
    private final int size;
    private final long[] words;

    public Bitfield(int size) {
        if (size < 0) {
            throw new IllegalArgumentException("negative bitfield size " + size);
        }
        this.size = size;
        this.words = new long[(size + 63) >>> 6];
    }

    public static Bitfield full(int size) {
        Bitfield b = new Bitfield(size);
        for (int i = 0; i < size; i++) {
            b.set(i);
        }
        return b;
    }

    public int size() {
        return size;
    }

    public synchronized boolean get(int i) {
        check(i);
        return (words[i >>> 6] & (1L << (i & 63))) != 0;
    }

    /** Sets bit i; returns true when it was clear. */
    public synchronized boolean set(int i) {
        check(i);
        long before = words[i >>> 6];
        words[i >>> 6] = before | (1L << (i & 63));
        return before != words[i >>> 6];
    }

    /** Clears bit i; returns true when it was set. */
    public synchronized boolean clear(int i) {
        check(i);
        long before = words[i >>> 6];
        words[i >>> 6] = before & ~(1L << (i & 63));
        return before != words[i >>> 6];
    }

    public synchronized int cardinality() {
        int n = 0;
        for (long w : words) {
            n += Long.bitCount(w);
        }
        return n;
    }

    public boolean isComplete() {
        return cardinality() == size;
    }

    /** The wire form: ceil(size/8) bytes, bit i in byte i/8 at position i%8. */
    public synchronized byte[] toBytes() {
        byte[] out = new byte[(size + 7) >>> 3];
        for (int i = 0; i < size; i++) {
            if ((words[i >>> 6] & (1L << (i & 63))) != 0) {
                out[i >>> 3] |= (byte) (1 << (i & 7));
            }
        }
        return out;
    }

    /** Reads the wire form; bits beyond {@code size} must be zero. */
    public static Bitfield fromBytes(int size, byte[] bytes) {
        if (bytes.length != (size + 7) >>> 3) {
            throw new IllegalArgumentException("bitfield of " + size + " bits needs " + ((size + 7) >>> 3)
                    + " bytes, got " + bytes.length);
        }
        Bitfield b = new Bitfield(size);
        for (int i = 0; i < bytes.length * 8; i++) {
            if ((bytes[i >>> 3] & (1 << (i & 7))) != 0) {
                if (i >= size) {
                    throw new IllegalArgumentException("bitfield has bit " + i + " set beyond its size " + size);
                }
                b.set(i);
            }
        }
        return b;
    }

    public synchronized Bitfield copy() {
        Bitfield b = new Bitfield(size);
        System.arraycopy(words, 0, b.words, 0, words.length);
        return b;
    }

    private void check(int i) {
        if (i < 0 || i >= size) {
            throw new IndexOutOfBoundsException("bit " + i + " outside bitfield of " + size);
        }
    }

    @Override
    public synchronized boolean equals(Object o) {
        return o instanceof Bitfield b && b.size == size && Arrays.equals(b.toBytes(), toBytes());
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(toBytes());
    }
}
