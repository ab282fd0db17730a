package io.strata.loader.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.core.kv.KvCache;
import io.strata.core.kv.KvPageView;
import io.strata.core.memory.Pool;
import io.strata.storage.codec.CodecKind;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class PagedKvStoreTest {
    static final int KV_DIM = 32;
    static final int LAYERS = 2;
    static final int TOKENS_PER_PAGE = 8;
    static final long PAGE_BYTES = 2L * TOKENS_PER_PAGE * KV_DIM * Float.BYTES;

    @TempDir
    Path tmp;

    KvOptions options(long fastPages, long hostBytes, CodecKind codec) {
        return KvOptions.defaults().withSpillRoot(tmp).withCodec(codec).withFastBudget(fastPages * PAGE_BYTES)
                .withHostBudget(hostBytes).withPaging(TOKENS_PER_PAGE, TOKENS_PER_PAGE)
                .withScanEviction(false); // LRU order makes which pages spill predictable here
    }

    /** What the decoder would write: smooth-ish floats, distinct per (sequence, layer, position, k/v). */
    static float[] row(long seed, int layer, int pos, boolean value) {
        Random r = new Random(seed * 1_000_003L + layer * 7919L + pos * 2L + (value ? 1 : 0));
        float[] row = new float[KV_DIM];
        for (int i = 0; i < KV_DIM; i++) {
            row[i] = (float) (r.nextGaussian() * (1 + i % 4));
        }
        return row;
    }

    /** Appends one position to every layer, then reads every page of every layer like attention does. */
    static void step(KvCache cache, long seed, int pos) {
        for (int layer = 0; layer < LAYERS; layer++) {
            cache.append(layer, row(seed, layer, pos, false), row(seed, layer, pos, true));
            verifyLayer(cache, seed, layer);
        }
    }

    static void verifyLayer(KvCache cache, long seed, int layer) {
        int len = cache.length(layer);
        int t = cache.tokensPerPage();
        for (int p = 0; p * t < len; p++) {
            try (KvPageView v = cache.page(layer, p)) {
                assertEquals(Math.min(t, len - p * t), v.tokens());
                for (int k = 0; k < v.tokens(); k++) {
                    int pos = p * t + k;
                    float[] key = row(seed, layer, pos, false);
                    float[] val = row(seed, layer, pos, true);
                    for (int i = 0; i < KV_DIM; i++) {
                        long off = ((long) k * KV_DIM + i) * Float.BYTES;
                        assertEquals(Float.floatToRawIntBits(key[i]),
                                Float.floatToRawIntBits(v.keys().get(ValueLayout.JAVA_FLOAT, off)),
                                "key layer " + layer + " pos " + pos + " dim " + i);
                        assertEquals(Float.floatToRawIntBits(val[i]),
                                Float.floatToRawIntBits(v.values().get(ValueLayout.JAVA_FLOAT, off)),
                                "value layer " + layer + " pos " + pos + " dim " + i);
                    }
                }
            }
        }
    }

    static void assertNoLeak(PagedKvStore store) {
        assertEquals(0, store.fastLedger().used(Pool.KV), "fast tier KV pool");
        assertEquals(0, store.hostLedger().used(Pool.KV), "host tier KV pool");
        assertEquals(0, store.fastLedger().used(), "fast ledger");
        assertEquals(0, store.hostLedger().used(), "host ledger");
    }

    @ParameterizedTest
    @EnumSource(CodecKind.class)
    void spilledPagesComeBackBitExactThroughHostAndDisk(CodecKind codec) throws Exception {
        int positions = 160; // 20 pages per layer, 40 in all; the fast tier holds 6
        PagedKvStore store = PagedKvStore.create(options(6, 6 * PAGE_BYTES, codec));
        try (PagedKvSequence seq = store.newSequence(KV_DIM, LAYERS)) {
            for (int pos = 0; pos < positions; pos++) {
                step(seq, 1, pos);
            }
            KvStats s = store.stats();
            assertTrue(s.fastBytes() <= 6 * PAGE_BYTES, s.toString());
            assertTrue(s.hostPages() > 0 && s.diskPages() > 0, "pages reached both host and disk: " + s);
            assertTrue(s.restoresFromHost() > 0 && s.restoresFromDisk() > 0, s.toString());
            assertEquals(2L * 20, s.fastPages() + s.hostPages() + s.diskPages(), s.toString());
            if (codec == CodecKind.ZSTD) {
                // random mantissas do not compress; the entropy coder still gains on the exponent plane
                assertTrue(s.compressionRatio() > 1.0, "plane-split floats compress: " + s);
            }
            assertTrue(Files.list(store.spillDirectory()).findAny().isPresent(), "a spill file exists");
        }
        assertNoLeak(store);
        try (Stream<Path> files = Files.list(store.spillDirectory())) {
            assertEquals(0, files.count(), "spill files deleted when the sequence is freed");
        }
        store.close();
        assertFalse(Files.exists(store.spillDirectory()));
    }

    @Test
    void adaptiveCodecSpillsBitExactAndReportsWhatItChose() {
        PagedKvStore store = PagedKvStore.create(options(6, 4 * PAGE_BYTES, CodecKind.LZ4).withAdaptiveCodec());
        try (PagedKvSequence seq = store.newSequence(KV_DIM, LAYERS)) {
            for (int pos = 0; pos < 96; pos++) {
                step(seq, 6, pos);
            }
            KvStats s = store.stats();
            assertTrue(s.restoresFromHost() > 0 && s.restoresFromDisk() > 0, s.toString());
            assertTrue(s.lz4Records() + s.zstdRecords() + s.rawRecords() > 0, s.toString());
        }
        assertNoLeak(store);
        store.close();
    }

    @Test
    void unlimitedBudgetNeverSpills() {
        try (PagedKvStore store = PagedKvStore.create(KvOptions.defaults().withSpillRoot(tmp)
                .withPaging(TOKENS_PER_PAGE, TOKENS_PER_PAGE).withScanEviction(false));
             PagedKvSequence seq = store.newSequence(KV_DIM, LAYERS)) {
            for (int pos = 0; pos < 40; pos++) {
                step(seq, 2, pos);
            }
            KvStats s = store.stats();
            assertEquals(0, s.bytesSpilled());
            assertEquals(10, s.fastPages());
        }
    }

    @Test
    void interleavedSequencesUnderPressureEachReadTheirOwnFloats() throws Exception {
        PagedKvStore store = PagedKvStore.create(options(16, 4 * PAGE_BYTES, CodecKind.LZ4));
        List<PagedKvSequence> seqs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            seqs.add(store.newSequence(KV_DIM, LAYERS));
        }
        for (int pos = 0; pos < 64; pos++) {
            for (int i = 0; i < seqs.size(); i++) {
                step(seqs.get(i), 100 + i, pos);
            }
        }
        assertTrue(store.stats().diskPages() > 0, store.stats().toString());
        seqs.get(1).close();
        for (int pos = 64; pos < 80; pos++) {
            step(seqs.get(0), 100, pos);
            step(seqs.get(2), 102, pos);
        }
        seqs.get(0).close();
        seqs.get(2).close();
        assertNoLeak(store);
        store.close();
        assertFalse(Files.exists(store.spillDirectory()));
    }

    @Test
    void concurrentSequencesOnSeparateThreadsStayExact() throws Exception {
        try (PagedKvStore store = PagedKvStore.create(options(16, 3 * PAGE_BYTES, CodecKind.ZSTD).withIoThreads(2))) {
            ExecutorService pool = Executors.newFixedThreadPool(3);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    long seed = 200 + i;
                    done.add(pool.submit(() -> {
                        try (PagedKvSequence seq = store.newSequence(KV_DIM, LAYERS)) {
                            for (int pos = 0; pos < 72; pos++) {
                                step(seq, seed, pos);
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) {
                    f.get();
                }
            } finally {
                pool.shutdown();
            }
            assertTrue(store.stats().bytesRestored() > 0, store.stats().toString());
            assertNoLeak(store);
        }
    }

    @Test
    void readingAPageRestoresTheNextOneAheadOfTheReader() throws Exception {
        try (PagedKvStore store = PagedKvStore.create(options(4, 64 * PAGE_BYTES, CodecKind.LZ4));
             PagedKvSequence seq = store.newSequence(KV_DIM, 1)) {
            for (int pos = 0; pos < 12 * TOKENS_PER_PAGE; pos++) {
                seq.append(0, row(3, 0, pos, false), row(3, 0, pos, true));
            }
            assertEquals(0, store.stats().restoresFromHost(), "nothing read yet");
            try (KvPageView v = seq.page(0, 0)) {
                assertEquals(TOKENS_PER_PAGE, v.tokens());
            }
            store.awaitQueuedPrefetches();
            KvStats afterFirst = store.stats();
            assertEquals(2, afterFirst.restoresFromHost(), "page 0 by the reader, page 1 by prefetch: " + afterFirst);
            assertEquals(0, afterFirst.prefetchHits());
            long stall = afterFirst.restoreStallNanos();
            try (KvPageView v = seq.page(0, 1)) {
                assertEquals(Float.floatToRawIntBits(row(3, 0, TOKENS_PER_PAGE, false)[0]),
                        Float.floatToRawIntBits(v.keys().get(ValueLayout.JAVA_FLOAT, 0)));
            }
            KvStats afterSecond = store.stats();
            assertEquals(1, afterSecond.prefetchHits(), afterSecond.toString());
            assertEquals(stall, afterSecond.restoreStallNanos(), "a prefetched page costs the reader no stall");
            store.awaitQueuedPrefetches();
            assertEquals(3, store.stats().restoresFromHost(), "reading page 1 prefetched page 2");
            verifyLayer(seq, 3, 0);
        }
    }

    @Test
    void viewIsPinnedAndUnreadableAfterClose() {
        try (PagedKvStore store = PagedKvStore.create(options(3, 0, CodecKind.LZ4));
             PagedKvSequence seq = store.newSequence(KV_DIM, 1)) {
            for (int pos = 0; pos < TOKENS_PER_PAGE; pos++) {
                seq.append(0, row(4, 0, pos, false), row(4, 0, pos, true));
            }
            KvPageView first = seq.page(0, 0);
            // fill two more pages: page 0 is out of the window but pinned, so page 1 must be the one to go
            for (int pos = TOKENS_PER_PAGE; pos < 4 * TOKENS_PER_PAGE; pos++) {
                seq.append(0, row(4, 0, pos, false), row(4, 0, pos, true));
            }
            assertEquals(Float.floatToRawIntBits(row(4, 0, 0, false)[0]),
                    Float.floatToRawIntBits(first.keys().get(ValueLayout.JAVA_FLOAT, 0)));
            first.close();
            assertThrows(IllegalStateException.class, first::keys);
            verifyLayer(seq, 4, 0);
        }
    }

    @Test
    void budgetThatCannotHoldTheWindowIsAClearError() {
        try (PagedKvStore store = PagedKvStore.create(options(1, 0, CodecKind.LZ4).withPaging(TOKENS_PER_PAGE,
                2 * TOKENS_PER_PAGE));
             PagedKvSequence seq = store.newSequence(KV_DIM, 1)) {
            for (int pos = 0; pos < TOKENS_PER_PAGE; pos++) {
                seq.append(0, row(5, 0, pos, false), row(5, 0, pos, true));
            }
            var e = assertThrows(KvBudgetExceededException.class,
                    () -> seq.append(0, row(5, 0, 8, false), row(5, 0, 8, true)));
            assertTrue(e.getMessage().contains("window"), e.getMessage());
            assertTrue(store.fastLedger().used(Pool.KV) <= PAGE_BYTES);
        }
    }
}
