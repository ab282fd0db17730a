package io.strata.storage.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.core.manifest.GroupInfo;
import io.strata.core.manifest.Manifest;
import io.strata.core.manifest.ShardInfo;
import io.strata.core.model.DType;
import io.strata.core.model.ModelFamily;
import io.strata.storage.convert.ConvertOptions;
import io.strata.storage.convert.ProgressListener;
import io.strata.storage.convert.ShardConverter;
import io.strata.storage.synth.SyntheticCheckpoint;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Verification on read: a flipped byte in a shard is caught by the chunk that holds it, and only by that one. */
class ShardReaderTest {
    static final long CHUNK = 1024;

    @TempDir
    Path tmp;
    Path model;

    @BeforeEach
    void convert() throws Exception {
        Path src = tmp.resolve("src");
        SyntheticCheckpoint.builder().family(ModelFamily.MIXTRAL).dtype(DType.F32).hidden(32).intermediate(48)
                .layers(1).heads(4).kvHeads(2).headDim(8).experts(2).topK(2).vocab(64).seed(3).write(src);
        model = tmp.resolve("model");
        ShardConverter.convert(src, model, ConvertOptions.defaults().withChunkSize(CHUNK), ProgressListener.NONE);
    }

    private GroupInfo expert(Manifest m) {
        return m.groups().get("expert.0.1");
    }

    /** Flips one byte at {@code at} of shard {@code shard}; returns the original byte. */
    private void flip(Manifest m, int shard, long at) throws Exception {
        try (RandomAccessFile f = new RandomAccessFile(model.resolve(m.shard(shard).filename()).toFile(), "rw")) {
            f.seek(at);
            int b = f.read();
            f.seek(at);
            f.write(b ^ 0x5a);
        }
    }

    private GroupInfo flipFirstByteOfTheExpert(ConvertedModel cm) throws Exception {
        GroupInfo g = expert(cm.manifest());
        flip(cm.manifest(), g.shard(), g.offset());
        return g;
    }

    private static byte[] read(ShardReader r, int shard, long offset, long size) throws Exception {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment dst = a.allocate(size);
            r.read(shard, offset, dst);
            return dst.toArray(ValueLayout.JAVA_BYTE);
        }
    }

    @Test
    void aFlippedByteInAShardIsCaughtOnReadNamingTheShardAndChunk() throws Exception {
        try (ConvertedModel cm = ConvertedModel.open(model)) {
            Manifest m = cm.manifest();
            GroupInfo g = expert(m);
            long at = g.offset() + g.size() / 2;
            flip(m, g.shard(), at);
            CorruptShardException e = assertThrows(CorruptShardException.class,
                    () -> read(cm.reader(), g.shard(), g.offset(), g.size()));
            int chunk = (int) (at / CHUNK);
            assertEquals(chunk, e.chunk());
            assertTrue(e.getMessage().contains(m.shard(g.shard()).filename()) && e.getMessage().contains("chunk "
                    + chunk) && e.getMessage().contains("strata verify"), e.getMessage());
            // the zero-copy accessors go through the same check
            assertThrows(UncheckedIOException.class, () -> cm.group("expert.0.1"));
        }
    }

    @Test
    void aPartialReadVerifiesOnlyTheChunksItCovers() throws Exception {
        try (ConvertedModel cm = ConvertedModel.open(model)) {
            Manifest m = cm.manifest();
            GroupInfo g = expert(m);
            ShardInfo s = m.shard(g.shard());
            assertTrue(s.size() > 6 * CHUNK, "test setup: shard of several chunks");
            flip(m, g.shard(), s.size() - 1); // damage the last chunk only
            ShardReader r = cm.reader();
            // a read inside chunks 1..2 that starts and ends mid-chunk checks chunks 1 and 2, not the damaged one
            byte[] got = read(r, g.shard(), CHUNK + 100, CHUNK + 200);
            assertEquals(2 * CHUNK, r.verifiedBytes());
            byte[] want = Arrays.copyOfRange(Files.readAllBytes(model.resolve(s.filename())), (int) CHUNK + 100,
                    (int) (2 * CHUNK + 300));
            assertArrayEquals(want, got);
            assertThrows(CorruptShardException.class, () -> read(r, g.shard(), s.size() - 10, 10));
        }
    }

    @Test
    void eachChunkIsVerifiedOncePerReader() throws Exception {
        try (ConvertedModel cm = ConvertedModel.open(model)) {
            GroupInfo g = expert(cm.manifest());
            read(cm.reader(), g.shard(), g.offset(), g.size());
            long once = cm.reader().verifiedBytes();
            assertTrue(once >= g.size(), "at least the group's bytes were hashed");
            read(cm.reader(), g.shard(), g.offset(), g.size());
            cm.group("expert.0.1");
            assertEquals(once, cm.reader().verifiedBytes(), "remembered: not hashed again");
        }
    }

    @Test
    void aTrustedReadSkipsTheCheck() throws Exception {
        try (ConvertedModel cm = ConvertedModel.open(model)) {
            GroupInfo g = flipFirstByteOfTheExpert(cm);
            try (Arena a = Arena.ofConfined()) {
                MemorySegment dst = a.allocate(g.size());
                cm.reader().readTrusted(g.shard(), g.offset(), dst);
                assertEquals(0, cm.reader().verifiedBytes());
            }
        }
    }

    @Test
    void aRepairedChunkReadsAgainAfterAMismatch() throws Exception {
        try (ConvertedModel cm = ConvertedModel.open(model)) {
            GroupInfo g = flipFirstByteOfTheExpert(cm);
            assertThrows(CorruptShardException.class, () -> read(cm.reader(), g.shard(), g.offset(), 16));
            flip(cm.manifest(), g.shard(), g.offset()); // flipped back
            read(cm.reader(), g.shard(), g.offset(), 16);
        }
    }
}
