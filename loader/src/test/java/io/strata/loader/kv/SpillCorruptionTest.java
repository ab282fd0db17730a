package io.strata.loader.kv;

import static io.strata.loader.kv.PagedKvStoreTest.KV_DIM;
import static io.strata.loader.kv.PagedKvStoreTest.PAGE_BYTES;
import static io.strata.loader.kv.PagedKvStoreTest.TOKENS_PER_PAGE;
import static io.strata.loader.kv.PagedKvStoreTest.row;
import static io.strata.loader.kv.PagedKvStoreTest.verifyLayer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.core.memory.Pool;
import io.strata.storage.codec.CodecKind;
import io.strata.storage.codec.CorruptPageException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A damaged spill file fails its own sequence with a clear error; the other sequences go on. */
class SpillCorruptionTest {
    private static final int POSITIONS = 6 * TOKENS_PER_PAGE;

    @TempDir
    Path tmp;

    private PagedKvStore store;

    private PagedKvSequence filled(long seed) {
        PagedKvSequence seq = store.newSequence(KV_DIM, 1);
        for (int pos = 0; pos < POSITIONS; pos++) {
            seq.append(0, row(seed, 0, pos, false), row(seed, 0, pos, true));
        }
        return seq;
    }

    private Path onlySpillFileOf(PagedKvSequence seq) throws IOException {
        try (Stream<Path> files = Files.list(store.spillDirectory())) {
            List<Path> match = files.filter(p -> p.getFileName().toString().equals("seq-" + seq.id()
                    + ".kvspill")).toList();
            assertEquals(1, match.size(), "spill file of sequence " + seq.id());
            return match.getFirst();
        }
    }

    private void runScenario(DamageKind damage) throws IOException {
        // host budget 0: every spilled page goes straight to its sequence's spill file
        store = PagedKvStore.create(KvOptions.defaults().withSpillRoot(tmp).withCodec(CodecKind.LZ4)
                .withFastBudget(5 * PAGE_BYTES).withHostBudget(0).withPaging(TOKENS_PER_PAGE, TOKENS_PER_PAGE)
                .withScanEviction(false)); // LRU order: the damaged record is the one read back first
        PagedKvSequence a = filled(11);
        PagedKvSequence b = filled(12);
        verifyLayer(b, 12, 0); // pushes a's old pages out of the fast tier
        Path file = onlySpillFileOf(a);
        long size = Files.size(file);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            if (damage == DamageKind.TRUNCATE) {
                ch.truncate(size / 2);
            } else {
                ByteBuffer one = ByteBuffer.allocate(1);
                ch.read(one, size / 2);
                one.put(0, (byte) (one.get(0) ^ 0x01));
                ch.write(one.rewind(), size / 2);
            }
        }
        KvSpillException e = assertThrows(KvSpillException.class, () -> verifyLayer(a, 11, 0));
        assertInstanceOf(CorruptPageException.class, e.getCause());
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains(damage == DamageKind.TRUNCATE ? "truncated" : "checksum mismatch"),
                e.getMessage());
        // the failed sequence keeps reporting its error; the other one goes on, under the same pressure
        assertThrows(KvSpillException.class, () -> a.page(0, 0));
        for (int pos = POSITIONS; pos < POSITIONS + 2 * TOKENS_PER_PAGE; pos++) {
            b.append(0, row(12, 0, pos, false), row(12, 0, pos, true));
            verifyLayer(b, 12, 0);
        }
        a.close();
        b.close();
        assertEquals(0, store.fastLedger().used(Pool.KV));
        assertEquals(0, store.hostLedger().used(Pool.KV));
        try (Stream<Path> left = Files.list(store.spillDirectory())) {
            assertEquals(0, left.count(), "spill files removed");
        }
        store.close();
        assertFalse(Files.exists(store.spillDirectory()));
    }

    private enum DamageKind { FLIP, TRUNCATE }

    @Test
    void flippedByteIsDetectedByThePageChecksum() throws IOException {
        runScenario(DamageKind.FLIP);
    }

    @Test
    void truncatedSpillFileIsDetected() throws IOException {
        runScenario(DamageKind.TRUNCATE);
    }
}
