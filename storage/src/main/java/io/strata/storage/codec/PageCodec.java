package io.strata.storage.codec;

/** A byte codec over whole pages held in heap arrays; implementations are stateless and thread-safe. */
public interface PageCodec {
    CodecKind kind();

    /** Upper bound of {@link #compress} output for {@code rawLength} input bytes. */
    int maxCompressedLength(int rawLength);

    /** Compresses {@code src[0, srcLength)} into {@code dst} at {@code dstOffset}; returns the stored length. */
    int compress(byte[] src, int srcLength, byte[] dst, int dstOffset);

    /**
     * Decompresses exactly {@code rawLength} bytes from {@code src[srcOffset, srcOffset + srcLength)} into
     * {@code dst[0, rawLength)}; throws {@link IllegalArgumentException} when the input does not decode to that.
     */
    void decompress(byte[] src, int srcOffset, int srcLength, byte[] dst, int rawLength);
}
