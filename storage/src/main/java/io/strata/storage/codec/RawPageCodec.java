package io.strata.storage.codec;

/** Stores bytes as they are: the baseline, and the fallback when a codec does not pay. */
final class RawPageCodec implements PageCodec {
    public static final RawPageCodec INSTANCE = new RawPageCodec();

    private RawPageCodec() {
    }

    @Override
    public CodecKind kind() {
        return CodecKind.NONE;
    }

    @Override
    public int maxCompressedLength(int rawLength) {
        return rawLength;
    }

    @Override
    public int compress(byte[] src, int srcLength, byte[] dst, int dstOffset) {
        System.arraycopy(src, 0, dst, dstOffset, srcLength);
        return srcLength;
    }

    @Override
    public void decompress(byte[] src, int srcOffset, int srcLength, byte[] dst, int rawLength) {
        if (srcLength != rawLength) {
            throw new IllegalArgumentException("raw page of " + srcLength + " bytes, expected " + rawLength);
        }
        System.arraycopy(src, srcOffset, dst, 0, rawLength);
    }
}
