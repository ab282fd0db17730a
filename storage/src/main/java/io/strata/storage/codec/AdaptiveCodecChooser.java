package io.strata.storage.codec;

/**
 * Chooses between LZ4 (fast) and zstd (dense) by measured ratio: every {@code probeEvery}-th page is compressed
 * with both, and zstd is used from then on only while its cumulative ratio beats LZ4's by at least
 * {@code minGain} (e.g. 0.10 = 10 % more raw bytes per stored byte); otherwise its extra CPU is not worth it.
 * Not thread-safe: one per encoder.
 */
public final class AdaptiveCodecChooser {
    private final int probeEvery;
    private final double minGain;
    private long probedRaw;
    private long lz4Stored;
    private long zstdStored;
    private long pages;
    private CodecKind current = CodecKind.LZ4;

    public AdaptiveCodecChooser(int probeEvery, double minGain) {
        if (probeEvery < 1 || minGain < 0) {
            throw new IllegalArgumentException("probeEvery must be >= 1 and minGain >= 0");
        }
        this.probeEvery = probeEvery;
        this.minGain = minGain;
    }

    /** Whether the next page should be compressed with both codecs (the first page always is). */
    boolean probeDue() {
        return pages++ % probeEvery == 0;
    }

    /** Records a probe's stored sizes and updates the choice. */
    void record(int rawLength, int lz4Length, int zstdLength) {
        probedRaw += rawLength;
        lz4Stored += lz4Length;
        zstdStored += zstdLength;
        double lz4Ratio = (double) probedRaw / lz4Stored;
        double zstdRatio = (double) probedRaw / zstdStored;
        current = zstdRatio >= lz4Ratio * (1 + minGain) ? CodecKind.ZSTD : CodecKind.LZ4;
    }

    public CodecKind current() {
        return current;
    }

    /** Cumulative ratio of the probes for {@code kind} (LZ4 or ZSTD); 1 before the first probe. */
    public double probedRatio(CodecKind kind) {
        long stored = kind == CodecKind.ZSTD ? zstdStored : lz4Stored;
        return stored == 0 ? 1.0 : (double) probedRaw / stored;
    }
}
