package io.strata.kernels.decoder;

import io.strata.core.kv.KvCache;
import io.strata.core.kv.ClosablePageView;
import io.strata.core.kv.KvPageView;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * The simplest {@link KvCache}: every page a pair of Java float arrays that never leave the heap. Each page's
 * segments are made once, so a view of a full page allocates only the view.
 */
public final class HeapKvCache implements KvCache {
    private final int kvDim;
    private final int tokensPerPage;
    private final List<List<Page>> pages;
    private final int[] lengths;
    private boolean closed;

    public HeapKvCache(int layers, int kvDim, int tokensPerPage) {
        if (layers <= 0 || kvDim <= 0 || tokensPerPage <= 0) {
            throw new IllegalArgumentException("KV cache needs positive layers/kvDim/tokensPerPage, got "
                    + layers + "/" + kvDim + "/" + tokensPerPage);
        }
        this.kvDim = kvDim;
        this.tokensPerPage = tokensPerPage;
        this.lengths = new int[layers];
        this.pages = new ArrayList<>(layers);
        for (int l = 0; l < layers; l++) {
            pages.add(new ArrayList<>());
        }
    }

    @Override
    public int kvDim() {
        return kvDim;
    }

    @Override
    public int tokensPerPage() {
        return tokensPerPage;
    }

    @Override
    public int length(int layer) {
        open();
        return lengths[layer];
    }

    @Override
    public void append(int layer, float[] key, float[] value) {
        open();
        if (key.length < kvDim || value.length < kvDim) {
            throw new IllegalArgumentException("KV append needs " + kvDim + " floats, got key " + key.length
                    + ", value " + value.length);
        }
        int pos = lengths[layer];
        List<Page> list = pages.get(layer);
        if (pos % tokensPerPage == 0) {
            list.add(new Page(layer, list.size(), new float[tokensPerPage * kvDim], new float[tokensPerPage * kvDim]));
        }
        Page page = list.get(pos / tokensPerPage);
        int off = (pos % tokensPerPage) * kvDim;
        System.arraycopy(key, 0, page.keys, off, kvDim);
        System.arraycopy(value, 0, page.values, off, kvDim);
        lengths[layer] = pos + 1;
    }

    @Override
    public KvPageView page(int layer, int page) {
        open();
        List<Page> list = pages.get(layer);
        if (page < 0 || page >= list.size()) {
            throw new IndexOutOfBoundsException("KV layer " + layer + " has " + list.size() + " pages, asked for "
                    + page);
        }
        int tokens = Math.min(tokensPerPage, lengths[layer] - page * tokensPerPage);
        Page p = list.get(page);
        if (tokens == tokensPerPage) {
            return new ClosablePageView(tokens, p.keySegment, p.valueSegment, p);
        }
        long bytes = (long) tokens * kvDim * Float.BYTES;
        return new ClosablePageView(tokens, p.keySegment.asSlice(0, bytes), p.valueSegment.asSlice(0, bytes), p);
    }

    /** One page's arrays and their segments; names itself in a read-after-close error. */
    private record Page(int layer, int index, float[] keys, float[] values, MemorySegment keySegment,
                        MemorySegment valueSegment) {
        Page(int layer, int index, float[] keys, float[] values) {
            this(layer, index, keys, values, MemorySegment.ofArray(keys), MemorySegment.ofArray(values));
        }

        @Override
        public String toString() {
            return "layer " + layer + " page " + index;
        }
    }

    @Override
    public void close() {
        closed = true;
        pages.clear();
    }

    private void open() {
        if (closed) {
            throw new IllegalStateException("KV cache is closed");
        }
    }
}
