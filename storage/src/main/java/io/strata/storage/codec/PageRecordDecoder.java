package io.strata.storage.codec;

import java.lang.foreign.MemorySegment;

/**
 * Validates and decodes page records written by {@link PageRecordEncoder}. Every failure is a
 * {@link CorruptPageException} whose message names the source (file or tier), layer, page and reason.
 * Not thread-safe: it keeps a scratch buffer; use one per thread.
 */
public final class PageRecordDecoder {
    private byte[] planes = new byte[0];

    /** Reads and checks the header (not the checksum, which needs the payload). */
    public static PageHeader header(byte[] record, String source) {
        if (record.length < PageRecordFormat.HEADER_BYTES) {
            throw new CorruptPageException(source + ": truncated page record (" + record.length
                    + " bytes, header alone is " + PageRecordFormat.HEADER_BYTES + ")");
        }
        MemorySegment h = MemorySegment.ofArray(record);
        int magic = (int) PageRecordFormat.MAGIC_H.get(h);
        if (magic != PageRecordFormat.MAGIC) {
            throw new CorruptPageException(source + ": bad page magic 0x" + Integer.toHexString(magic));
        }
        int version = (short) PageRecordFormat.VERSION_H.get(h);
        if (version != PageRecordFormat.VERSION) {
            throw new CorruptPageException(source + ": unsupported page record version " + version);
        }
        CodecKind codec;
        try {
            codec = CodecKind.ofId((byte) PageRecordFormat.CODEC_H.get(h));
        } catch (IllegalArgumentException e) {
            throw new CorruptPageException(source + ": " + e.getMessage());
        }
        return new PageHeader(codec, (byte) PageRecordFormat.PLANES_H.get(h),
                (int) PageRecordFormat.LAYER_H.get(h), (int) PageRecordFormat.PAGE_H.get(h),
                (int) PageRecordFormat.TOKENS_H.get(h), (int) PageRecordFormat.KVDIM_H.get(h),
                (int) PageRecordFormat.RAW_H.get(h), (int) PageRecordFormat.STORED_H.get(h),
                (long) PageRecordFormat.CHECKSUM_H.get(h));
    }

    /**
     * Checks that {@code record} is the page ({@code layer}, {@code page}) and intact, and decodes its raw bytes
     * into {@code raw[0, rawLength)}; returns the header.
     */
    public PageHeader decode(byte[] record, int layer, int page, byte[] raw, String source) {
        PageHeader hdr = header(record, source);
        String where = source + " layer " + layer + " page " + page;
        if (hdr.layer() != layer || hdr.page() != page) {
            throw new CorruptPageException(where + ": record belongs to layer " + hdr.layer() + " page " + hdr.page());
        }
        if (hdr.storedLength() < 0 || hdr.recordLength() != record.length) {
            throw new CorruptPageException(where + ": truncated or oversized record (" + record.length
                    + " bytes, header says " + hdr.recordLength() + ")");
        }
        long actual = PageRecordEncoder.checksum(record);
        if (actual != hdr.checksum()) {
            throw new CorruptPageException(where + ": checksum mismatch (stored " + Long.toHexString(hdr.checksum())
                    + ", computed " + Long.toHexString(actual) + ")");
        }
        if (hdr.rawLength() > raw.length) {
            throw new CorruptPageException(where + ": raw length " + hdr.rawLength() + " exceeds page size " + raw.length);
        }
        try {
            if (hdr.planeWidth() > 1) {
                planes = PageRecordEncoder.ensure(planes, hdr.rawLength());
                hdr.codec().codec().decompress(record, PageRecordFormat.HEADER_BYTES, hdr.storedLength(), planes,
                        hdr.rawLength());
                BytePlanes.merge(planes, hdr.rawLength(), hdr.planeWidth(), raw);
            } else {
                hdr.codec().codec().decompress(record, PageRecordFormat.HEADER_BYTES, hdr.storedLength(), raw,
                        hdr.rawLength());
            }
        } catch (IllegalArgumentException e) {
            throw new CorruptPageException(where + ": " + e.getMessage(), e);
        }
        return hdr;
    }
}
