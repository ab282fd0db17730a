package io.strata.loader.kv;

/**
 * A snapshot of KV telemetry.
 *
 * @param fastPages         pages whose raw floats are resident in the fast tier
 * @param hostPages         pages whose only copy is an encoded record in host memory
 * @param diskPages         pages whose only copy is on disk
 * @param fastBytes         bytes reserved in the fast tier
 * @param hostBytes         bytes reserved in host memory
 * @param diskBytes         bytes of live records in spill files
 * @param bytesSpilled      raw bytes encoded out of the fast tier
 * @param bytesStored       encoded bytes those became (their ratio is the compression ratio)
 * @param bytesToDisk       encoded bytes written to spill files
 * @param bytesRestored     raw bytes brought back into the fast tier
 * @param restoresFromHost  pages restored from host memory
 * @param restoresFromDisk  pages restored from disk
 * @param prefetchHits      requests for a spilled page that found it already restored by prefetch
 * @param restoreStallNanos time callers of {@code page()} waited for a page to come back
 * @param rawRecords        spilled pages stored raw (the codec did not pay, or codec none)
 * @param lz4Records        spilled pages stored with LZ4
 * @param zstdRecords       spilled pages stored with zstd
 */
public record KvStats(long fastPages, long hostPages, long diskPages, long fastBytes, long hostBytes, long diskBytes,
                      long bytesSpilled, long bytesStored, long bytesToDisk, long bytesRestored,
                      long restoresFromHost, long restoresFromDisk, long prefetchHits, long restoreStallNanos,
                      long rawRecords, long lz4Records, long zstdRecords) {

    /** Raw over stored bytes of everything spilled so far (1 when nothing was). */
    public double compressionRatio() {
        return bytesStored == 0 ? 1.0 : (double) bytesSpilled / bytesStored;
    }

    @Override
    public String toString() {
        return String.format("pages fast/host/disk %d/%d/%d, spilled %d B -> %d B (ratio %.3f), to disk %d B, "
                        + "restored %d B (%d host, %d disk, %d prefetch hits), stall %.3f ms, "
                        + "records raw/lz4/zstd %d/%d/%d",
                fastPages, hostPages, diskPages, bytesSpilled, bytesStored, compressionRatio(), bytesToDisk,
                bytesRestored, restoresFromHost, restoresFromDisk, prefetchHits, restoreStallNanos / 1e6,
                rawRecords, lz4Records, zstdRecords);
    }
}
