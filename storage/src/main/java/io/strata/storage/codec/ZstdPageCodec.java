package io.strata.storage.codec;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;
import com.github.luben.zstd.ZstdException;

/**
 * Zstandard (dense): slower than LZ4, smaller pages; pays when the spill goes to disk. Keeps one native context
 * per thread: creating a context per call costs more than compressing a 4 KiB page.
 */
final class ZstdPageCodec implements PageCodec {
    public static final int DEFAULT_LEVEL = 3;
    public static final ZstdPageCodec DEFAULT = new ZstdPageCodec(DEFAULT_LEVEL);

    private final int level;
    private final ThreadLocal<ZstdCompressCtx> compressors;
    private final ThreadLocal<ZstdDecompressCtx> decompressors = ThreadLocal.withInitial(ZstdDecompressCtx::new);

    public ZstdPageCodec(int level) {
        this.level = level;
        this.compressors = ThreadLocal.withInitial(() -> new ZstdCompressCtx().setLevel(level));
    }

    public int level() {
        return level;
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
        try {
            return compressors.get().compressByteArray(dst, dstOffset, dst.length - dstOffset, src, 0, srcLength);
        } catch (ZstdException e) {
            throw new IllegalStateException("zstd compression failed: " + e.getMessage(), e);
        }
    }

    @Override
    public void decompress(byte[] src, int srcOffset, int srcLength, byte[] dst, int rawLength) {
        int n;
        try {
            n = decompressors.get().decompressByteArray(dst, 0, rawLength, src, srcOffset, srcLength);
        } catch (ZstdException e) {
            throw new IllegalArgumentException("zstd frame does not decode: " + e.getMessage(), e);
        }
        if (n != rawLength) {
            throw new IllegalArgumentException("zstd frame decoded to " + n + " bytes, expected " + rawLength);
        }
    }
}
