package io.strata.loader.kv;

import io.strata.storage.safetensors.CheckpointWeights;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.core.kv.KvCache;
import io.strata.core.memory.Pool;
import io.strata.kernels.decoder.DecoderOptions;
import io.strata.kernels.decoder.HeapKvCache;
import io.strata.kernels.decoder.MoeDecoder;
import io.strata.kernels.decoder.Sequence;
import io.strata.storage.codec.CodecKind;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The decoder's logits do not depend on where the KV cache kept its pages: spilled runs equal unlimited runs. */
class DecoderLogitsTest {
    private static final int TOKENS_PER_PAGE = 8;
    private static final int LONG_RUN = 520;

    private static io.strata.storage.safetensors.CheckpointWeights weights;
    private static MoeDecoder decoder;

    @TempDir
    Path tmp;

    /** The Vector API kernels users run: their horizontal sums add lanes in a fixed order, so runs are bit-stable. */
    @BeforeAll
    static void open() {
        weights = FixtureWeights.open();
        decoder = new MoeDecoder(weights, DecoderOptions.defaults().withThreads(1).withSpeculativePrefetch(false));
    }

    @AfterAll
    static void close() {
        weights.close();
    }

    private static int layers() {
        return decoder.config().numLayers();
    }

    private static int kvDim() {
        return decoder.config().kvDim();
    }

    private static long cacheBytes(int positions) {
        return (long) layers() * 2 * kvDim() * Float.BYTES * positions;
    }

    /** Greedy decoding from {@code first}, one forward per position; the logits of every position. */
    private static List<float[]> generate(KvCache cache, int first, int positions) {
        List<float[]> logits = new ArrayList<>();
        try (Sequence s = decoder.newSequence(cache)) {
            int token = first;
            for (int i = 0; i < positions; i++) {
                float[] l = s.forward(token);
                logits.add(l);
                token = argmax(l);
            }
        }
        return logits;
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    private static void assertSameFloats(List<float[]> want, List<float[]> got, String what) {
        assertEquals(want.size(), got.size(), what);
        for (int i = 0; i < want.size(); i++) {
            float[] a = want.get(i);
            float[] b = got.get(i);
            for (int j = 0; j < a.length; j++) {
                if (Float.floatToRawIntBits(a[j]) != Float.floatToRawIntBits(b[j])) {
                    throw new AssertionError(what + ": position " + i + " logit " + j + ": " + a[j] + " != " + b[j]);
                }
            }
        }
    }

    private KvOptions options(long fastBudget, long hostBudget, CodecKind codec) {
        return KvOptions.defaults().withSpillRoot(tmp).withCodec(codec).withFastBudget(fastBudget)
                .withHostBudget(hostBudget).withPaging(TOKENS_PER_PAGE, TOKENS_PER_PAGE);
    }

    private static void assertEmpty(PagedKvStore store) throws Exception {
        assertEquals(0, store.fastLedger().used(Pool.KV), "fast KV pool back to zero");
        assertEquals(0, store.hostLedger().used(Pool.KV), "host KV pool back to zero");
        try (var files = Files.list(store.spillDirectory())) {
            assertEquals(0, files.count(), "spill directory empty");
        }
    }

    @Test
    void longGenerationWithATenthOfTheCacheGivesTheSameLogits() throws Exception {
        List<float[]> unlimited;
        try (PagedKvStore store = PagedKvStore.create(options(Long.MAX_VALUE, 0, CodecKind.LZ4))) {
            unlimited = generate(store.newSequence(kvDim(), layers()), 1, LONG_RUN);
            assertEquals(0, store.stats().bytesSpilled());
            assertEmpty(store);
        }
        // the decoder's own heap cache agrees too: the paged store changes nothing even without pressure
        assertSameFloats(generate(new HeapKvCache(layers(), kvDim(), TOKENS_PER_PAGE), 1, LONG_RUN), unlimited,
                "heap cache vs paged unlimited");

        long tenth = cacheBytes(LONG_RUN) / 10;
        for (CodecKind codec : CodecKind.values()) {
            // host memory for about a third of the spill: the rest goes through the spill file
            PagedKvStore store = PagedKvStore.create(options(tenth, cacheBytes(LONG_RUN) / 3, codec));
            List<float[]> spilled = generate(store.newSequence(kvDim(), layers()), 1, LONG_RUN);
            KvStats s = store.stats();
            assertSameFloats(unlimited, spilled, codec + " with a tenth of the cache");
            assertTrue(store.fastLedger().highWater(Pool.KV) <= tenth, "fast tier never crossed its budget");
            assertTrue(s.restoresFromHost() > 0 && s.restoresFromDisk() > 0, codec + ": " + s);
            assertEmpty(store);
            store.close();
            assertFalse(Files.exists(store.spillDirectory()));
        }
    }

    @Test
    void scanEvictionRestoresFewerPagesThanLruWithTheSameLogits() throws Exception {
        int positions = 320;
        long half = cacheBytes(positions) / 2; // room for a resident set; at a tenth every read misses either way
        List<List<float[]>> logits = new ArrayList<>();
        long[] restores = new long[2];
        boolean[] orders = {false, true};
        for (int i = 0; i < 2; i++) {
            try (PagedKvStore store = PagedKvStore.create(options(half, cacheBytes(positions), CodecKind.LZ4)
                    .withScanEviction(orders[i]))) {
                logits.add(generate(store.newSequence(kvDim(), layers()), 5, positions));
                KvStats st = store.stats();
                restores[i] = st.restoresFromHost() + st.restoresFromDisk();
            }
        }
        assertSameFloats(logits.get(0), logits.get(1), "scan vs LRU eviction");
        // measured here: LRU 10496, scan 6990 restores (prefetch timing moves these a little)
        assertTrue(restores[1] < restores[0] * 0.8,
                "attention's in-order scans: scan eviction should restore far fewer pages (LRU " + restores[0]
                        + ", scan " + restores[1] + ")");
    }

    @Test
    void interleavedSequencesUnderSpillPressureMatchTheirSoloRuns() throws Exception {
        int positions = 160;
        int[] firsts = {3, 77, 200};
        List<List<float[]>> solo = new ArrayList<>();
        for (int first : firsts) {
            solo.add(generate(new HeapKvCache(layers(), kvDim(), TOKENS_PER_PAGE), first, positions));
        }
        // 16 pages for all three: an eighth of their KV, little more than their sliding windows
        long pageBytes = 2L * TOKENS_PER_PAGE * kvDim() * Float.BYTES;
        assertTrue(16 * pageBytes * 7 < cacheBytes(positions) * firsts.length);
        PagedKvStore store = PagedKvStore.create(options(16 * pageBytes, 8 * 1024, CodecKind.ZSTD));
        List<Sequence> seqs = new ArrayList<>();
        List<List<float[]>> got = new ArrayList<>();
        int[] next = firsts.clone();
        for (int i = 0; i < firsts.length; i++) {
            seqs.add(decoder.newSequence(store.newSequence(kvDim(), layers())));
            got.add(new ArrayList<>());
        }
        for (int pos = 0; pos < positions; pos++) {
            for (int i = 0; i < seqs.size(); i++) {
                float[] l = seqs.get(i).forward(next[i]);
                got.get(i).add(l);
                next[i] = argmax(l);
            }
        }
        KvStats s = store.stats();
        assertTrue(s.restoresFromDisk() > 0, s.toString());
        for (int i = 0; i < seqs.size(); i++) {
            assertSameFloats(solo.get(i), got.get(i), "sequence " + i + " interleaved vs solo");
            seqs.get(i).close();
        }
        assertEmpty(store);
        store.close();
    }

}
