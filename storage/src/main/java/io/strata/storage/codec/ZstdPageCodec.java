package io.strata.storage.codec;

import com.github.luben.zstd.Zstd;

/** Zstandard (dense): slower than LZ4, smaller pages; pays when the spill goes to disk. */
public final class ZstdPageCodec implements PageCodec {
    public static final int DEFAULT_LEVEL = 3;
    public static final ZstdPageCodec DEFAULT = new ZstdPageCodec(DEFAULT_LEVEL);

    private final int level;

    public ZstdPageCodec(int level) {
        this.level = level;
    }

    @Override
    public CodecKind kind() {
        return CodecKind.ZSTD;
    }

    @Override
    public int maxCompressedLength(int rawLength) {
        return Math.toIntExact(Zstd.compressBound(rawLength));
    }

    @Override
    public int compress(byte[] src, int srcLength, byte[] dst, int dstOffset) {
        long n = Zstd.compressByteArray(dst, dstOffset, dst.length - dstOffset, src, 0, srcLength, level);
        if (Zstd.isError(n)) {
            throw new IllegalStateException("zstd compression failed: " + Zstd.getErrorName(n));
        }
        return (int) n;
    }

    @Override
    public void decompress(byte[] src, int srcOffset, int srcLength, byte[] dst, int rawLength) {
        long n = Zstd.decompressByteArray(dst, 0, rawLength, src, srcOffset, srcLength);
        if (Zstd.isError(n)) {
            throw new IllegalArgumentException("zstd frame does not decode: " + Zstd.getErrorName(n));
        }
        if (n != rawLength) {
            throw new IllegalArgumentException("zstd frame decoded to " + n + " bytes, expected " + rawLength);
        }
    }
}
