package io.strata.storage.codec;

import java.lang.foreign.MemorySegment;
import net.jpountz.xxhash.XXHash64;
import net.jpountz.xxhash.XXHashFactory;

/**
 * Turns a raw KV page into a self-describing record (header + payload). Optionally splits the bytes into planes
 * before compressing, and stores the page raw when compression saves less than {@code minSaving} (adaptive per
 * page: float mantissas are close to random, so a codec often does not pay).
 * Not thread-safe: it keeps scratch buffers; use one per thread.
 */
public final class PageRecordEncoder {
    static final XXHash64 HASH = XXHashFactory.fastestInstance().hash64();

    private final PageCodec codec;
    private final AdaptiveCodecChooser chooser;
    private final int planeWidth;
    private final double minSaving;
    private byte[] planes = new byte[0];
    private byte[] out = new byte[0];
    private byte[] probe = new byte[0];
    private CodecKind lastStored;

    /**
     * @param codec      the byte codec
     * @param planeWidth element width for the byte-plane split, or 1 for none (4 for float32, 2 for f16/bf16)
     * @param minSaving  fraction of the raw size that compression must save, else the page is stored raw
     */
    public PageRecordEncoder(PageCodec codec, int planeWidth, double minSaving) {
        this(codec, null, planeWidth, minSaving);
    }

    /** An encoder that picks LZ4 or zstd per page with {@code chooser}. */
    public PageRecordEncoder(AdaptiveCodecChooser chooser, int planeWidth, double minSaving) {
        this(null, chooser, planeWidth, minSaving);
    }

    private PageRecordEncoder(PageCodec codec, AdaptiveCodecChooser chooser, int planeWidth, double minSaving) {
        this.codec = codec;
        this.chooser = chooser;
        this.planeWidth = planeWidth;
        this.minSaving = minSaving;
    }

    /** The codec the next page is compressed with (the adaptive choice so far, when adaptive). */
    public CodecKind kind() {
        return chooser != null ? chooser.current() : codec.kind();
    }

    /** The codec the last record was actually stored with (NONE when the codec did not pay); null before any. */
    public CodecKind lastStored() {
        return lastStored;
    }

    /** The adaptive chooser, or null for a fixed codec. */
    public AdaptiveCodecChooser chooser() {
        return chooser;
    }

    public int planeWidth() {
        return planeWidth;
    }

    /** Encodes {@code raw[0, rawLength)}; returns a fresh array holding exactly the record. */
    public byte[] encode(int layer, int page, int tokens, int kvDim, byte[] raw, int rawLength) {
        boolean probing = chooser != null && chooser.probeDue();
        PageCodec codec = chooser != null ? chooser.current().codec() : this.codec;
        CodecKind used = codec.kind();
        int width = used == CodecKind.NONE ? 1 : planeWidth;
        byte[] input = raw;
        if (width > 1) {
            planes = ensure(planes, rawLength);
            BytePlanes.split(raw, rawLength, width, planes);
            input = planes;
        }
        int bound = PageRecordFormat.HEADER_BYTES + Math.max(rawLength, codec.maxCompressedLength(rawLength));
        out = ensure(out, bound);
        int stored;
        if (probing) {
            // compress with both codecs; keep the one the updated choice names
            PageCodec lz4 = CodecKind.LZ4.codec();
            PageCodec zstd = CodecKind.ZSTD.codec();
            out = ensure(out, PageRecordFormat.HEADER_BYTES + lz4.maxCompressedLength(rawLength)
                    + zstd.maxCompressedLength(rawLength) + rawLength);
            probe = ensure(probe, zstd.maxCompressedLength(rawLength));
            int lz4Length = lz4.compress(input, rawLength, out, PageRecordFormat.HEADER_BYTES);
            int zstdLength = zstd.compress(input, rawLength, probe, 0);
            chooser.record(rawLength, lz4Length, zstdLength);
            used = chooser.current();
            stored = used == CodecKind.LZ4 ? lz4Length : zstdLength;
            if (used == CodecKind.ZSTD) {
                System.arraycopy(probe, 0, out, PageRecordFormat.HEADER_BYTES, zstdLength);
            }
        } else {
            stored = codec.compress(input, rawLength, out, PageRecordFormat.HEADER_BYTES);
        }
        if (used != CodecKind.NONE && stored > rawLength * (1.0 - minSaving)) {
            used = CodecKind.NONE;
            width = 1;
            stored = rawLength;
            System.arraycopy(raw, 0, out, PageRecordFormat.HEADER_BYTES, rawLength);
        }
        byte[] record = new byte[PageRecordFormat.HEADER_BYTES + stored];
        System.arraycopy(out, PageRecordFormat.HEADER_BYTES, record, PageRecordFormat.HEADER_BYTES, stored);
        MemorySegment h = MemorySegment.ofArray(record);
        PageRecordFormat.MAGIC_H.set(h, PageRecordFormat.MAGIC);
        PageRecordFormat.VERSION_H.set(h, (short) PageRecordFormat.VERSION);
        PageRecordFormat.CODEC_H.set(h, (byte) used.id());
        PageRecordFormat.PLANES_H.set(h, (byte) width);
        PageRecordFormat.LAYER_H.set(h, layer);
        PageRecordFormat.PAGE_H.set(h, page);
        PageRecordFormat.TOKENS_H.set(h, tokens);
        PageRecordFormat.KVDIM_H.set(h, kvDim);
        PageRecordFormat.RAW_H.set(h, rawLength);
        PageRecordFormat.STORED_H.set(h, stored);
        PageRecordFormat.CHECKSUM_H.set(h, checksum(record));
        lastStored = used;
        return record;
    }

    /** XXH64 over the header up to the checksum field and the payload. */
    static long checksum(byte[] record) {
        int co = (int) PageRecordFormat.CHECKSUM_OFFSET;
        long head = HASH.hash(record, 0, co, PageRecordFormat.CHECKSUM_SEED);
        return HASH.hash(record, PageRecordFormat.HEADER_BYTES, record.length - PageRecordFormat.HEADER_BYTES, head);
    }

    static byte[] ensure(byte[] buf, int length) {
        return buf.length >= length ? buf : new byte[length];
    }
}
