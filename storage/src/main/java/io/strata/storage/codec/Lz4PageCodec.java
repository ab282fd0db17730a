package io.strata.storage.codec;

import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Exception;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4FastDecompressor;

/** LZ4 block format (fast): the default for spilling, where latency matters more than density. */
final class Lz4PageCodec implements PageCodec {
    public static final Lz4PageCodec INSTANCE = new Lz4PageCodec();

    private final LZ4Compressor compressor;
    private final LZ4FastDecompressor decompressor;

    private Lz4PageCodec() {
        LZ4Factory factory = LZ4Factory.fastestInstance();
        this.compressor = factory.fastCompressor();
        this.decompressor = factory.fastDecompressor();
    }

    @Override
    public CodecKind kind() {
        return CodecKind.LZ4;
    }

    @Override
    public int maxCompressedLength(int rawLength) {
        return compressor.maxCompressedLength(rawLength);
    }

    @Override
    public int compress(byte[] src, int srcLength, byte[] dst, int dstOffset) {
        return compressor.compress(src, 0, srcLength, dst, dstOffset, dst.length - dstOffset);
    }

    @Override
    public void decompress(byte[] src, int srcOffset, int srcLength, byte[] dst, int rawLength) {
        int read;
        try {
            read = decompressor.decompress(src, srcOffset, dst, 0, rawLength);
        } catch (LZ4Exception e) {
            throw new IllegalArgumentException("LZ4 block does not decode to " + rawLength + " bytes: "
                    + e.getMessage(), e);
        }
        if (read != srcLength) {
            throw new IllegalArgumentException("LZ4 block used " + read + " of " + srcLength + " stored bytes");
        }
    }
}
