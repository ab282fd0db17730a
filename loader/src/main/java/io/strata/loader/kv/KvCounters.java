package io.strata.loader.kv;

import io.strata.storage.codec.CodecKind;

/** The KV store's running totals, behind {@link KvStats}. Guarded by the store's lock. */
final class KvCounters {
    long bytesSpilled;
    long bytesStored;
    long bytesToDisk;
    long diskLiveBytes;
    long bytesRestored;
    long restoresFromHost;
    long restoresFromDisk;
    long prefetchHits;
    long restoreStallNanos;
    /** Spilled records by the codec they were stored with, indexed by {@link CodecKind#ordinal()}. */
    final long[] recordsByCodec = new long[CodecKind.values().length];

    KvStats snapshot(long fastPages, long hostPages, long diskPages, long fastBytes, long hostBytes) {
        return new KvStats(fastPages, hostPages, diskPages, fastBytes, hostBytes, diskLiveBytes, bytesSpilled,
                bytesStored, bytesToDisk, bytesRestored, restoresFromHost, restoresFromDisk, prefetchHits,
                restoreStallNanos, recordsByCodec[CodecKind.NONE.ordinal()], recordsByCodec[CodecKind.LZ4.ordinal()],
                recordsByCodec[CodecKind.ZSTD.ordinal()]);
    }
}
