package io.strata.kernels.decoder;

import io.strata.core.model.ModelFamily;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.strata.core.kv.KvCache;
import io.strata.core.kv.KvPageView;
import io.strata.core.model.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** Attention reads K/V only through KvCache pages: any conforming cache, any page size, gives identical bits. */
class KvCacheIndependenceTest {
    private static final List<Integer> PROMPT = List.of(5, 17, 88, 2, 60, 61, 62, 9, 33);

    /** A differently built cache: one off-heap segment per page, confined arena per view, tracking open views. */
    static final class OffHeapKvCache implements KvCache {
        private final Arena arena = Arena.ofShared();
        private final int kvDim;
        private final int perPage;
        private final List<List<MemorySegment[]>> pages = new ArrayList<>();
        private final int[] length;
        int openViews;

        OffHeapKvCache(int layers, int kvDim, int perPage) {
            this.kvDim = kvDim;
            this.perPage = perPage;
            this.length = new int[layers];
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
            return perPage;
        }

        @Override
        public int length(int layer) {
            return length[layer];
        }

        @Override
        public void append(int layer, float[] key, float[] value) {
            int pos = length[layer]++;
            if (pos % perPage == 0) {
                pages.get(layer).add(new MemorySegment[] {
                    arena.allocate((long) perPage * kvDim * 4, 64), arena.allocate((long) perPage * kvDim * 4, 64)});
            }
            MemorySegment[] p = pages.get(layer).get(pos / perPage);
            long off = (long) (pos % perPage) * kvDim * 4;
            MemorySegment.copy(key, 0, p[0], ValueLayout.JAVA_FLOAT, off, kvDim);
            MemorySegment.copy(value, 0, p[1], ValueLayout.JAVA_FLOAT, off, kvDim);
        }

        @Override
        public KvPageView page(int layer, int page) {
            int tokens = Math.min(perPage, length[layer] - page * perPage);
            MemorySegment[] p = pages.get(layer).get(page);
            Arena view = Arena.ofConfined();
            long bytes = (long) tokens * kvDim * 4;
            // A copy in a view-scoped arena: reading it after close fails, as a spilled-and-restored page would.
            MemorySegment k = view.allocate(bytes, 16).copyFrom(p[0].asSlice(0, bytes));
            MemorySegment v = view.allocate(bytes, 16).copyFrom(p[1].asSlice(0, bytes));
            openViews++;
            return new KvPageView() {
                @Override
                public int tokens() {
                    return tokens;
                }

                @Override
                public MemorySegment keys() {
                    return k;
                }

                @Override
                public MemorySegment values() {
                    return v;
                }

                @Override
                public void close() {
                    view.close();
                    openViews--;
                }
            };
        }

        @Override
        public void close() {
            arena.close();
        }
    }

    private static List<float[]> run(MoeDecoder d, Supplier<KvCache> cache) {
        List<float[]> out = new ArrayList<>();
        try (Sequence s = d.newSequence(cache.get())) {
            for (int t : PROMPT) {
                out.add(s.forward(t));
            }
        }
        return out;
    }

    @Test
    void logitsAreBitIdenticalAcrossCacheImplementationsAndPageSizes() {
        RandomMoeModel model = new RandomMoeModel(ModelFamily.MIXTRAL, DType.BF16, 11, false);
        try (MapWeightSource src = model.source()) {
            MoeDecoder d = new MoeDecoder(src, DecoderOptions.defaults());
            int kvDim = d.config().kvDim();
            List<float[]> base = run(d, () -> new HeapKvCache(3, kvDim, 64));
            for (int perPage : new int[] {1, 2, 4, 5}) {
                List<float[]> heap = run(d, () -> new HeapKvCache(3, kvDim, perPage));
                OffHeapKvCache[] holder = new OffHeapKvCache[1];
                List<float[]> off = run(d, () -> holder[0] = new OffHeapKvCache(3, kvDim, perPage));
                assertEquals(0, holder[0].openViews, "every page view closed");
                for (int i = 0; i < base.size(); i++) {
                    assertArrayEquals(base.get(i), heap.get(i), "heap pages of " + perPage + ", position " + i);
                    assertArrayEquals(base.get(i), off.get(i), "off-heap pages of " + perPage + ", position " + i);
                }
            }
        }
    }

    @Test
    void heapCacheRejectsUseAfterClose() {
        HeapKvCache c = new HeapKvCache(1, 4, 2);
        c.append(0, new float[4], new float[4]);
        KvPageView v = c.page(0, 0);
        v.close();
        assertThrows(IllegalStateException.class, v::keys);
        c.close();
        assertThrows(IllegalStateException.class, () -> c.length(0));
    }
}
