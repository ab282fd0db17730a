package io.strata.loader.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.core.kv.KvPageView;
import io.strata.loader.testing.SmallTmpfs;
import io.strata.storage.codec.CodecKind;
import java.nio.file.Files;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * A KV spill onto a full file system (a real tmpfs filled to the last block): the error reaches the decoding
 * thread as one exception naming the spill file and the reason, and nothing escapes from the prefetch thread (whose
 * uncaught exception used to print a 20-frame stack trace before the one-line error).
 */
class KvSpillFullDiskTest {
    static final int KV_DIM = 32;
    static final int T = 16;

    @Test
    void aSpillOnAFullFileSystemIsOneErrorOnTheCallerAndNothingFromThePrefetchThread() throws Exception {
        List<Throwable> uncaught = new CopyOnWriteArrayList<>();
        Thread.UncaughtExceptionHandler before = Thread.getDefaultUncaughtExceptionHandler();
        Thread.setDefaultUncaughtExceptionHandler((t, e) -> uncaught.add(e));
        try (SmallTmpfs fs = SmallTmpfs.mount("256k");
             PagedKvStore store = PagedKvStore.create(KvOptions.defaults().withSpillRoot(fs.dir().resolve("kv"))
                     .withFastBudget(3L * 2 * T * KV_DIM * Float.BYTES).withHostBudget(0).withPaging(T, T)
                     .withIoThreads(1).withScanEviction(true)
                     .withCodec(CodecKind.NONE)); // raw records: each needs fresh blocks, none fits in a tail

             PagedKvSequence seq = store.newSequence(KV_DIM, 1)) {
            for (int pos = 0; pos < 4 * T; pos++) {
                seq.append(0, PagedKvStoreTest.row(1, 0, pos, false), PagedKvStoreTest.row(1, 0, pos, true));
            }
            assertEquals(1, store.stats().diskPages(), "page 1 went to disk while there was room");
            fs.fill();
            // page 0 is in the fast tier; pinning it prefetches page 1 from disk, and making room for that means
            // spilling page 2 to the full disk, on the prefetch thread
            try (KvPageView v = seq.page(0, 0)) {
                store.awaitQueuedPrefetches();
                assertEquals(T, v.tokens());
            }
            assertEquals(List.of(), uncaught, "nothing escaped the prefetch thread");
            RuntimeException e = assertThrows(RuntimeException.class, () -> seq.page(0, 1).close());
            assertTrue(e.getMessage().contains("No space left on device")
                    && e.getMessage().contains(store.spillDirectory().toString()), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        } finally {
            Thread.setDefaultUncaughtExceptionHandler(before);
        }
    }
}
