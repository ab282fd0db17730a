package io.strata.storage.codec;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * On-disk and in-host-memory layout of one spilled KV page: a fixed little-endian header followed by the stored
 * (possibly plane-split and compressed) payload. The checksum (XXH64) covers the header bytes before it and the
 * payload, so a truncated or flipped record is caught before any decompression.
 */
final class PageRecordFormat {
    /** "SKVP" read as a little-endian int. */
    public static final int MAGIC = 0x50564B53;
    public static final int VERSION = 1;
    public static final long CHECKSUM_SEED = 0x5354524154414B56L; // "STRATAKV"

    public static final MemoryLayout HEADER = MemoryLayout.structLayout(
            ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN).withName("magic"),
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN).withName("version"),
            ValueLayout.JAVA_BYTE.withName("codec"),
            ValueLayout.JAVA_BYTE.withName("planeWidth"),
            ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN).withName("layer"),
            ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN).withName("page"),
            ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN).withName("tokens"),
            ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN).withName("kvDim"),
            ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN).withName("rawLength"),
            ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN).withName("storedLength"),
            ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN).withName("checksum"));

    public static final int HEADER_BYTES = (int) HEADER.byteSize();
    public static final long CHECKSUM_OFFSET = offset("checksum");

    static final VarHandle MAGIC_H = handle("magic");
    static final VarHandle VERSION_H = handle("version");
    static final VarHandle CODEC_H = handle("codec");
    static final VarHandle PLANES_H = handle("planeWidth");
    static final VarHandle LAYER_H = handle("layer");
    static final VarHandle PAGE_H = handle("page");
    static final VarHandle TOKENS_H = handle("tokens");
    static final VarHandle KVDIM_H = handle("kvDim");
    static final VarHandle RAW_H = handle("rawLength");
    static final VarHandle STORED_H = handle("storedLength");
    static final VarHandle CHECKSUM_H = handle("checksum");

    private PageRecordFormat() {
    }

    private static long offset(String field) {
        return HEADER.byteOffset(MemoryLayout.PathElement.groupElement(field));
    }

    private static VarHandle handle(String field) {
        VarHandle h = HEADER.varHandle(MemoryLayout.PathElement.groupElement(field));
        return java.lang.invoke.MethodHandles.insertCoordinates(h, 1, 0L);
    }
}
