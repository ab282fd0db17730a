package io.strata.loader.kv;

import io.strata.core.kv.KvCache;
import io.strata.core.kv.KvPageView;
import java.util.ArrayList;
import java.util.List;

/** One sequence's page table: per layer, its pages in order. The store does the tier work. */
public final class PagedKvSequence implements KvCache {
    private final PagedKvStore store;
    private final long id;
    private final int kvDim;
    final List<List<KvPage>> pages;
    final int[] lengths;
    private final java.nio.file.Path spillPath;
    /** Created on the first spill to disk. Guarded by the store lock (reads of a created file are not). */
    private volatile SpillFile spill;
    /** First unrecoverable spill error; every later call on this sequence rethrows it. Guarded by the store lock. */
    KvSpillException failure;
    boolean closed;

    PagedKvSequence(PagedKvStore store, long id, int kvDim, int layers, java.nio.file.Path spillPath) {
        this.store = store;
        this.id = id;
        this.kvDim = kvDim;
        this.spillPath = spillPath;
        this.lengths = new int[layers];
        this.pages = new ArrayList<>(layers);
        for (int i = 0; i < layers; i++) {
            pages.add(new ArrayList<>());
        }
    }

    java.nio.file.Path spillPath() {
        return spillPath;
    }

    SpillFile spill() {
        SpillFile s = spill;
        if (s == null) {
            s = new SpillFile(spillPath);
            spill = s;
        }
        return s;
    }

    void closeSpill() {
        SpillFile s = spill;
        spill = null;
        if (s != null) {
            s.close();
        }
    }

    public long id() {
        return id;
    }

    public int layers() {
        return lengths.length;
    }

    @Override
    public int kvDim() {
        return kvDim;
    }

    @Override
    public int tokensPerPage() {
        return store.tokensPerPage();
    }

    @Override
    public int length(int layer) {
        return store.length(this, layer);
    }

    @Override
    public void append(int layer, float[] key, float[] value) {
        if (key.length != kvDim || value.length != kvDim) {
            throw new IllegalArgumentException("KV rows must have kvDim " + kvDim + " floats, got " + key.length
                    + " and " + value.length);
        }
        store.append(this, layer, key, value);
    }

    @Override
    public KvPageView page(int layer, int page) {
        return store.pin(this, layer, page);
    }

    @Override
    public void close() {
        store.free(this);
    }
}
