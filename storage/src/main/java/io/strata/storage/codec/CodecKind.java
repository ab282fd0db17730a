package io.strata.storage.codec;

import java.util.Locale;

/** The byte codecs a spilled KV page may be stored with; the id is what the page header records. */
public enum CodecKind {
    NONE(0), LZ4(1), ZSTD(2);

    private final int id;

    CodecKind(int id) {
        this.id = id;
    }

    public int id() {
        return id;
    }

    public static CodecKind ofId(int id) {
        for (CodecKind k : values()) {
            if (k.id == id) {
                return k;
            }
        }
        throw new IllegalArgumentException("unknown codec id " + id);
    }

    /** Parses a flag value: {@code lz4}, {@code zstd} or {@code none} (case-insensitive). */
    public static CodecKind parse(String text) {
        try {
            return valueOf(text.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown KV codec '" + text + "' (expected lz4, zstd or none)");
        }
    }

    public PageCodec codec() {
        return switch (this) {
            case NONE -> RawPageCodec.INSTANCE;
            case LZ4 -> Lz4PageCodec.INSTANCE;
            case ZSTD -> ZstdPageCodec.DEFAULT;
        };
    }
}
