package io.strata.loader.kv;

import io.strata.core.memory.MemoryLedger;
import io.strata.core.memory.Pool;
import io.strata.core.memory.Reservation;
import io.strata.core.util.LruOrder;
import io.strata.storage.codec.AdaptiveCodecChooser;
import io.strata.storage.codec.CorruptPageException;
import io.strata.storage.codec.PageHeader;
import io.strata.storage.codec.PageRecordDecoder;
import io.strata.storage.codec.PageRecordEncoder;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Where a page goes when it leaves the fast tier and how it comes back: encoded (byte planes + LZ4/zstd,
 * checksummed) into a host-memory record reserved in the host ledger, the least recently spilled records moving
 * on to the sequence's spill file when host memory is short; decoded and checked on the way back. Everything but
 * {@link #decodeInto} runs under the store's lock; decoding reads immutable records and runs outside it.
 */
final class KvSpiller {
    private final MemoryLedger hostLedger;
    private final KvCounters counters;
    /** Pages whose freshest copy is in host memory, least recently spilled first. */
    private final LruOrder<KvPage> hostOrder = new LruOrder<>();
    private final ThreadLocal<PageRecordEncoder> encoders;
    private final ThreadLocal<PageRecordDecoder> decoders = ThreadLocal.withInitial(PageRecordDecoder::new);

    KvSpiller(KvOptions options, MemoryLedger hostLedger, KvCounters counters) {
        this.hostLedger = hostLedger;
        this.counters = counters;
        this.encoders = ThreadLocal.withInitial(() -> options.adaptiveCodec()
                ? new PageRecordEncoder(new AdaptiveCodecChooser(KvOptions.ADAPTIVE_PROBE_EVERY,
                        KvOptions.ADAPTIVE_MIN_GAIN), options.planeWidth(), options.minSaving())
                : new PageRecordEncoder(options.codec().codec(), options.planeWidth(), options.minSaving()));
    }

    /** Encodes the raw page {@code v.fast} (keys at 0, values at {@code valuesOffset}) and stores the record. */
    void spill(KvPage v, long valuesOffset) {
        PagedKvSequence seq = v.seq;
        int n = v.tokens * seq.kvDim() * Float.BYTES;
        byte[] raw = new byte[2 * n];
        MemorySegment.copy(v.fast, ValueLayout.JAVA_BYTE, 0, raw, 0, n);
        MemorySegment.copy(v.fast, ValueLayout.JAVA_BYTE, valuesOffset, raw, n, n);
        PageRecordEncoder encoder = encoders.get();
        byte[] record = encoder.encode(v.layer, v.index, v.tokens, seq.kvDim(), raw, raw.length);
        counters.bytesSpilled += raw.length;
        counters.bytesStored += record.length;
        counters.recordsByCodec[encoder.lastStored().ordinal()]++;
        storeEncoded(v, record);
    }

    /** Keeps the record in host memory, moving colder records to disk for room, or writes it to disk. */
    private void storeEncoded(KvPage v, byte[] record) {
        Reservation res;
        while ((res = hostLedger.tryReserve(Pool.KV, record.length)) == null) {
            KvPage cold = hostOrder.oldest();
            if (cold == null) {
                writeDisk(v, record);
                return;
            }
            writeDisk(cold, cold.host);
            freeHost(cold);
        }
        v.host = record;
        v.hostReservation = res;
        hostOrder.add(v);
    }

    /** Moves host records to disk until {@code bytes} are freed (the host ledger's KV evictor). */
    long demote(long bytes) {
        long freed = 0;
        KvPage cold;
        while (freed < bytes && (cold = hostOrder.oldest()) != null) {
            freed += cold.host.length;
            writeDisk(cold, cold.host);
            freeHost(cold);
        }
        return freed;
    }

    void freeHost(KvPage p) {
        hostOrder.remove(p);
        p.host = null;
        p.hostReservation.close();
        p.hostReservation = null;
    }

    /** Forgets the page's disk record (its sequence's spill file is deleted with the sequence). */
    void freeDisk(KvPage p) {
        counters.diskLiveBytes -= p.diskLength;
        p.diskOffset = -1;
    }

    /** Drops every copy outside the fast tier. */
    void free(KvPage p) {
        if (p.host != null) {
            freeHost(p);
        }
        if (p.onDisk()) {
            freeDisk(p);
        }
    }

    private void writeDisk(KvPage p, byte[] record) {
        p.diskOffset = p.seq.spill().append(record);
        p.diskLength = record.length;
        counters.bytesToDisk += record.length;
        counters.diskLiveBytes += record.length;
    }

    /**
     * Outside the lock: reads {@code page}'s record ({@code hostRecord}, or from its spill file), checks and decodes
     * it into {@code dst} (keys at 0, values at {@code valuesOffset}).
     *
     * @param source names where the record came from, for errors
     */
    void decodeInto(KvPage page, byte[] hostRecord, MemorySegment dst, long valuesOffset, String source)
            throws IOException {
        PagedKvSequence seq = page.seq;
        byte[] record = hostRecord != null ? hostRecord
                : seq.spill().read(page.diskOffset, page.diskLength, page.layer, page.index);
        int n = page.tokens * seq.kvDim() * Float.BYTES;
        byte[] raw = new byte[2 * n];
        PageHeader h = decoders.get().decode(record, page.layer, page.index, raw, source);
        if (h.rawLength() != raw.length || h.tokens() != page.tokens || h.kvDim() != seq.kvDim()) {
            throw new CorruptPageException(source + " layer " + page.layer + " page " + page.index + ": record holds "
                    + h.tokens() + " tokens of kvDim " + h.kvDim() + ", expected " + page.tokens + " of "
                    + seq.kvDim());
        }
        MemorySegment.copy(raw, 0, dst, ValueLayout.JAVA_BYTE, 0, n);
        MemorySegment.copy(raw, n, dst, ValueLayout.JAVA_BYTE, valuesOffset, n);
    }

    /** Under the lock, after a restore landed: counts it, and drops the host copy it came from. */
    void restored(KvPage page, boolean fromHost) {
        counters.bytesRestored += 2L * page.tokens * page.seq.kvDim() * Float.BYTES;
        if (fromHost) {
            counters.restoresFromHost++;
            if (page.host != null) {
                freeHost(page);
            }
        } else {
            counters.restoresFromDisk++;
        }
    }
}
