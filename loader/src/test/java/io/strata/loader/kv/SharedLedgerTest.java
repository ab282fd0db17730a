package io.strata.loader.kv;

import static io.strata.loader.kv.PagedKvStoreTest.KV_DIM;
import static io.strata.loader.kv.PagedKvStoreTest.PAGE_BYTES;
import static io.strata.loader.kv.PagedKvStoreTest.TOKENS_PER_PAGE;
import static io.strata.loader.kv.PagedKvStoreTest.row;
import static io.strata.loader.kv.PagedKvStoreTest.verifyLayer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.core.memory.BudgetExceededException;
import io.strata.core.memory.MemoryLedger;
import io.strata.core.memory.Pool;
import io.strata.core.memory.Reservation;
import io.strata.storage.codec.CodecKind;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The store on the runtime's ledgers: KV pool limit respected, and other pools can make it spill. */
class SharedLedgerTest {
    @TempDir
    Path tmp;

    @Test
    void kvPoolLimitBoundsTheFastTierAndOtherPoolsCanEvictKvPages() {
        MemoryLedger device = new MemoryLedger("device", 20 * PAGE_BYTES).limitPool(Pool.KV, 12 * PAGE_BYTES);
        MemoryLedger host = new MemoryLedger("host", 64 * PAGE_BYTES);
        KvOptions options = KvOptions.defaults().withSpillRoot(tmp).withCodec(CodecKind.ZSTD)
                .withPaging(TOKENS_PER_PAGE, TOKENS_PER_PAGE);
        try (PagedKvStore store = PagedKvStore.create(options, device, host);
             PagedKvSequence seq = store.newSequence(KV_DIM, 1)) {
            for (int pos = 0; pos < 16 * TOKENS_PER_PAGE; pos++) {
                seq.append(0, row(7, 0, pos, false), row(7, 0, pos, true));
            }
            assertEquals(12 * PAGE_BYTES, device.used(Pool.KV), "the KV pool is full, not more");
            assertTrue(host.used(Pool.KV) > 0, "spilled records are reserved in the host ledger");
            // the expert cache needs 14 pages' worth: 8 are free, the KV cache must give back the rest
            try (Reservation experts = device.reserve(Pool.EXPERTS, 14 * PAGE_BYTES)) {
                assertTrue(device.used(Pool.KV) <= 6 * PAGE_BYTES, device.toString());
                verifyLayer(seq, 7, 0); // still exact, now with an even smaller fast tier
                assertThrows(BudgetExceededException.class, () -> device.reserve(Pool.EXPERTS, 6 * PAGE_BYTES),
                        "taking all 20 pages would evict the window page, which never leaves");
            }
        }
        assertEquals(0, device.used());
        assertEquals(0, host.used());
    }
}
