package io.strata.storage.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class PageRecordCodecTest {
    private static final int TOKENS = 16;
    private static final int KV_DIM = 32;

    /** Floats shaped like KV rows: smooth per-channel values, so the exponent plane repeats. */
    private static byte[] kvLikePage(long seed) {
        Random r = new Random(seed);
        ByteBuffer b = ByteBuffer.allocate(2 * TOKENS * KV_DIM * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 2 * TOKENS * KV_DIM; i++) {
            b.putFloat((float) (0.5 + 0.25 * r.nextGaussian()));
        }
        return b.array();
    }

    @Test
    void planesRoundTripAndGroupBytes() {
        byte[] src = {1, 2, 3, 4, 5, 6, 7, 8};
        byte[] planes = new byte[8];
        BytePlanes.split(src, 8, 4, planes);
        assertArrayEquals(new byte[]{1, 5, 2, 6, 3, 7, 4, 8}, planes);
        byte[] back = new byte[8];
        BytePlanes.merge(planes, 8, 4, back);
        assertArrayEquals(src, back);
        assertThrows(IllegalArgumentException.class, () -> BytePlanes.split(src, 7, 4, planes));
    }

    @Test
    void fastPlanePathsMatchTheStridedReference() {
        byte[] src = new byte[4096];
        new Random(3).nextBytes(src);
        for (int width : new int[]{2, 4, 8}) {
            byte[] fast = new byte[src.length];
            byte[] ref = new byte[src.length];
            BytePlanes.split(src, src.length, width, fast);
            BytePlanes.splitScalar(src, src.length, width, ref);
            assertArrayEquals(ref, fast, "split width " + width);
            byte[] back = new byte[src.length];
            byte[] backRef = new byte[src.length];
            BytePlanes.merge(fast, src.length, width, back);
            BytePlanes.mergeScalar(ref, src.length, width, backRef);
            assertArrayEquals(backRef, back, "merge width " + width);
            assertArrayEquals(src, back, "round trip width " + width);
        }
    }

    @ParameterizedTest
    @EnumSource(CodecKind.class)
    void roundTripIsBitExactWithAndWithoutPlanes(CodecKind kind) {
        byte[] raw = kvLikePage(kind.ordinal());
        for (int width : new int[]{1, 2, 4}) {
            byte[] record = new PageRecordEncoder(kind.codec(), width, 0.0).encode(3, 7, TOKENS, KV_DIM, raw, raw.length);
            byte[] back = new byte[raw.length];
            PageHeader h = new PageRecordDecoder().decode(record, 3, 7, back, "test");
            assertArrayEquals(raw, back, kind + " width " + width);
            assertEquals(TOKENS, h.tokens());
            assertEquals(KV_DIM, h.kvDim());
            assertEquals(raw.length, h.rawLength());
        }
    }

    @Test
    void planeSplitCompressesKvLikeFloatsBetter() {
        byte[] raw = kvLikePage(42);
        int plain = new PageRecordEncoder(CodecKind.ZSTD.codec(), 1, 0.0).encode(0, 0, TOKENS, KV_DIM, raw, raw.length).length;
        int split = new PageRecordEncoder(CodecKind.ZSTD.codec(), 4, 0.0).encode(0, 0, TOKENS, KV_DIM, raw, raw.length).length;
        assertTrue(split < plain, "planes " + split + " vs interleaved " + plain);
    }

    @Test
    void incompressiblePageIsStoredRaw() {
        byte[] raw = new byte[4096];
        new Random(1).nextBytes(raw);
        byte[] record = new PageRecordEncoder(CodecKind.LZ4.codec(), 4, 0.05).encode(0, 0, 16, 32, raw, raw.length);
        PageHeader h = PageRecordDecoder.header(record, "test");
        assertEquals(CodecKind.NONE, h.codec());
        assertEquals(raw.length, h.storedLength());
        byte[] back = new byte[raw.length];
        new PageRecordDecoder().decode(record, 0, 0, back, "test");
        assertArrayEquals(raw, back);
    }

    @ParameterizedTest
    @EnumSource(CodecKind.class)
    void everySingleByteFlipIsDetected(CodecKind kind) {
        byte[] raw = kvLikePage(9);
        byte[] record = new PageRecordEncoder(kind.codec(), 4, 0.0).encode(1, 2, TOKENS, KV_DIM, raw, raw.length);
        byte[] back = new byte[raw.length];
        for (int i = 0; i < record.length; i += 7) {
            byte[] bad = record.clone();
            bad[i] ^= 0x10;
            assertThrows(CorruptPageException.class, () -> new PageRecordDecoder().decode(bad, 1, 2, back, "f.kvspill"),
                    "flip at " + i);
        }
    }

    @Test
    void truncationAndWrongPageAreReported() {
        byte[] raw = kvLikePage(5);
        byte[] record = new PageRecordEncoder(CodecKind.LZ4.codec(), 4, 0.0).encode(1, 2, TOKENS, KV_DIM, raw, raw.length);
        byte[] back = new byte[raw.length];
        var e = assertThrows(CorruptPageException.class,
                () -> new PageRecordDecoder().decode(Arrays.copyOf(record, record.length - 3), 1, 2, back, "seq-1.kvspill"));
        assertTrue(e.getMessage().contains("seq-1.kvspill") && e.getMessage().contains("truncated"), e.getMessage());
        assertThrows(CorruptPageException.class,
                () -> new PageRecordDecoder().decode(Arrays.copyOf(record, 10), 1, 2, back, "x"));
        var wrong = assertThrows(CorruptPageException.class, () -> new PageRecordDecoder().decode(record, 1, 3, back, "x"));
        assertTrue(wrong.getMessage().contains("belongs to layer 1 page 2"), wrong.getMessage());
    }

    @Test
    void adaptiveChoiceTakesZstdOnlyWhenItsMeasuredRatioPays() {
        // bytes from a 4-symbol alphabet: entropy 2 bits, which zstd's entropy coder gets and LZ4 cannot
        Random r = new Random(8);
        byte[] lowEntropy = new byte[4096];
        for (int i = 0; i < lowEntropy.length; i++) {
            lowEntropy[i] = (byte) (r.nextInt(4) * 37);
        }
        PageRecordEncoder dense = new PageRecordEncoder(new AdaptiveCodecChooser(4, 0.10), 1, 0.0);
        assertEquals(CodecKind.LZ4, dense.kind(), "starts with LZ4");
        byte[] first = dense.encode(0, 0, 16, 32, lowEntropy, lowEntropy.length);
        assertEquals(CodecKind.ZSTD, PageRecordDecoder.header(first, "t").codec());
        assertTrue(dense.chooser().probedRatio(CodecKind.ZSTD) > 1.1 * dense.chooser().probedRatio(CodecKind.LZ4));
        byte[] back = new byte[lowEntropy.length];
        new PageRecordDecoder().decode(first, 0, 0, back, "t");
        assertArrayEquals(lowEntropy, back);

        // float pages where both codecs land close together: LZ4 is kept, zstd's CPU is not worth it
        byte[] floats = kvLikePage(12);
        PageRecordEncoder close = new PageRecordEncoder(new AdaptiveCodecChooser(4, 0.50), 4, 0.0);
        for (int i = 0; i < 8; i++) {
            byte[] rec = close.encode(0, i, TOKENS, KV_DIM, floats, floats.length);
            assertEquals(CodecKind.LZ4, PageRecordDecoder.header(rec, "t").codec(), "page " + i);
            new PageRecordDecoder().decode(rec, 0, i, back = new byte[floats.length], "t");
            assertArrayEquals(floats, back);
        }
        double lz4 = close.chooser().probedRatio(CodecKind.LZ4);
        double zstd = close.chooser().probedRatio(CodecKind.ZSTD);
        assertTrue(zstd < 1.5 * lz4, "zstd " + zstd + " vs lz4 " + lz4);
    }
}
