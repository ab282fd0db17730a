package io.strata.storage.model;

import io.strata.core.hash.Blake3;
import io.strata.core.manifest.BlockMerkle;
import io.strata.core.manifest.Manifest;
import io.strata.core.manifest.ShardInfo;
import io.strata.core.manifest.Span;
import io.strata.core.manifest.TensorInfo;
import io.strata.storage.fs.FileRanges;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * {@link ShardReader}'s verification on read for a manifest without per-chunk hashes (DOPPLER's), at the finest
 * granularity the manifest offers. A tensor with a block Merkle root is its own unit: the first read that touches
 * it checks the whole tensor (all its spans, in whatever shards) against the root, so paging an expert hashes that
 * expert's bytes and nothing else. Bytes in no such tensor fall back to their whole shard: its SHA-256 on first
 * touch, streamed so that the bytes handed out are the ones hashed. Either way the bytes handed out are exactly
 * bytes that were checked (a read covering a tensor only in part is served from the whole tensor read to check it),
 * and each unit is checked once per reader. A shard hashed with DOPPLER's non-standard blake3 cannot be checked
 * (standard BLAKE3 is tried, in case DOPPLER's ever matches): reading its uncovered bytes throws
 * {@link UnverifiableBytesException}, never a corruption error.
 */
final class UnitVerifier {
    private static final int STREAM = 1 << 20;

    private final ShardReader reader;
    private final Manifest manifest;
    private final long blockSize;
    private final String[] names;
    private final List<List<Span>> spans = new ArrayList<>();
    private final String[] roots;
    /** Per shard, the rooted tensors' pieces sorted by start: [start, end) and the tensor index. */
    private final long[][] starts;
    private final long[][] ends;
    private final int[][] tensorOf;
    private final AtomicLongArray tensorsOk;
    private final AtomicLongArray shardsOk;
    private final AtomicLong verifiedBytes = new AtomicLong();

    UnitVerifier(ShardReader reader, Manifest manifest) {
        this.reader = reader;
        this.manifest = manifest;
        BlockMerkle bm = manifest.blockMerkle().orElse(null);
        this.blockSize = bm == null ? 0 : bm.blockSize();
        List<String> rooted = new ArrayList<>();
        List<String> rootList = new ArrayList<>();
        if (bm != null) {
            for (Map.Entry<String, String> e : bm.roots().entrySet()) {
                TensorInfo t = manifest.tensor(e.getKey());
                rooted.add(e.getKey());
                rootList.add(bm.rootHex(e.getKey()).orElseThrow());
                spans.add(t.ranges());
            }
        }
        this.names = rooted.toArray(String[]::new);
        this.roots = rootList.toArray(String[]::new);
        int n = manifest.shards().size();
        List<List<long[]>> pieces = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            pieces.add(new ArrayList<>());
        }
        for (int t = 0; t < names.length; t++) {
            for (Span s : spans.get(t)) {
                if (s.size() > 0) {
                    pieces.get(s.shardIndex()).add(new long[]{s.offset(), s.offset() + s.size(), t});
                }
            }
        }
        starts = new long[n][];
        ends = new long[n][];
        tensorOf = new int[n][];
        for (int i = 0; i < n; i++) {
            List<long[]> ps = pieces.get(i);
            ps.sort(Comparator.comparingLong(p -> p[0]));
            starts[i] = ps.stream().mapToLong(p -> p[0]).toArray();
            ends[i] = ps.stream().mapToLong(p -> p[1]).toArray();
            tensorOf[i] = ps.stream().mapToInt(p -> (int) p[2]).toArray();
        }
        tensorsOk = new AtomicLongArray(Math.max(1, (names.length + 63) / 64));
        shardsOk = new AtomicLongArray(Math.max(1, (n + 63) / 64));
    }

    long verifiedBytes() {
        return verifiedBytes.get();
    }

    /**
     * {@code dst} holds the file's bytes [offset, offset + dst.byteSize()) of {@code shard}; checks them (or the
     * units around them), replacing them with the checked copy where a unit had to be read whole.
     */
    void check(int shard, long offset, MemorySegment dst) throws IOException {
        long end = offset + dst.byteSize();
        if (dst.byteSize() == 0 || isSet(shardsOk, shard)) {
            return;
        }
        int[] ks = overlapping(shard, offset, end);
        if (!covers(shard, ks, offset, end)) {
            checkShard(shard, offset, dst);
            return;
        }
        for (int k : ks) {
            int t = tensorOf[shard][k];
            if (isSet(tensorsOk, t)) {
                continue;
            }
            List<Span> sp = spans.get(t);
            Span only = sp.getFirst();
            if (sp.size() == 1 && only.offset() >= offset && only.offset() + only.size() <= end) {
                checkTensor(t, List.of(dst.asSlice(only.offset() - offset, only.size())));
                continue;
            }
            long total = sp.stream().mapToLong(Span::size).sum();
            try (Arena a = Arena.ofConfined()) {
                MemorySegment whole = a.allocate(Math.max(1, total), 64).asSlice(0, total);
                long at = 0;
                for (Span s : sp) {
                    FileRanges.readFully(reader.channel(s.shardIndex()), s.offset(), whole.asSlice(at, s.size()));
                    at += s.size();
                }
                checkTensor(t, List.of(whole));
                at = 0;
                for (Span s : sp) { // hand out the checked bytes of this shard's part of the read
                    long lo = Math.max(s.offset(), offset);
                    long hi = Math.min(s.offset() + s.size(), end);
                    if (s.shardIndex() == shard && lo < hi) {
                        MemorySegment.copy(whole, at + lo - s.offset(), dst, lo - offset, hi - lo);
                    }
                    at += s.size();
                }
            }
        }
    }

    /** Checks the units covering [offset, offset + size) of {@code shard} from its mapping (nothing handed out). */
    void checkMapped(int shard, long offset, long size) throws IOException {
        long end = offset + size;
        if (size == 0 || isSet(shardsOk, shard)) {
            return;
        }
        int[] ks = overlapping(shard, offset, end);
        if (!covers(shard, ks, offset, end)) {
            ShardInfo s = manifest.shard(shard);
            checkWhole(s, ShardHasher.wholeHash(reader.segment(shard), hashFor(s)), offset, end);
            return;
        }
        for (int k : ks) {
            int t = tensorOf[shard][k];
            if (!isSet(tensorsOk, t)) {
                List<MemorySegment> parts = new ArrayList<>();
                for (Span s : spans.get(t)) {
                    parts.add(reader.segment(s.shardIndex()).asSlice(s.offset(), s.size()));
                }
                checkTensor(t, parts);
            }
        }
    }

    /** The algorithm to hash shard {@code s} with: SHA-256, or standard BLAKE3 in place of DOPPLER's blake3. */
    private String hashFor(ShardInfo s) {
        return Manifest.HASH_SHA256.equals(manifest.hashAlgorithm()) ? Manifest.HASH_SHA256 : Manifest.HASH_BLAKE3;
    }

    /** Streams the whole shard through its hash, copying the part [offset, end) into {@code dst} on the way. */
    private void checkShard(int shard, long offset, MemorySegment dst) throws IOException {
        ShardInfo s = manifest.shard(shard);
        long end = offset + dst.byteSize();
        FileChannel ch = reader.channel(shard);
        String got;
        if (Manifest.HASH_SHA256.equals(hashFor(s))) {
            MessageDigest md = ShardHasher.newSha256();
            byte[] buf = new byte[(int) Math.min(STREAM, Math.max(1, s.size()))];
            MemorySegment bufSeg = MemorySegment.ofArray(buf);
            for (long at = 0; at < s.size(); at += buf.length) {
                int n = (int) Math.min(buf.length, s.size() - at);
                FileRanges.readFully(ch, at, bufSeg.asSlice(0, n));
                md.update(buf, 0, n);
                long lo = Math.max(at, offset);
                long hi = Math.min(at + n, end);
                if (lo < hi) {
                    MemorySegment.copy(bufSeg, lo - at, dst, lo - offset, hi - lo);
                }
            }
            got = Blake3.hex(md.digest());
        } else {
            got = Blake3.hashHex(reader.segment(shard));
        }
        checkWhole(s, got, offset, end);
    }

    private void checkWhole(ShardInfo s, String got, long offset, long end) throws IOException {
        if (!got.equals(s.hash())) {
            if (Manifest.HASH_DOPPLER_BLAKE3.equals(manifest.hashAlgorithm())) {
                throw new UnverifiableBytesException(reader.file(s.index()) + ": bytes [" + offset + ", " + end
                        + ") of shard " + s.index() + " lie in no tensor with a block Merkle root, and the shard's"
                        + " hash was made by DOPPLER's blake3, which is not standard BLAKE3: they cannot be checked"
                        + " (give --trust-local to read them unchecked)");
            }
            throw CorruptShardException.wholeShard(reader.file(s.index()), s.index());
        }
        set(shardsOk, s.index());
        verifiedBytes.addAndGet(s.size());
    }

    private void checkTensor(int t, List<MemorySegment> parts) throws CorruptShardException {
        if (!ShardHasher.blockMerkleRoot(parts, blockSize).equals(roots[t])) {
            Span first = spans.get(t).getFirst();
            throw CorruptShardException.tensor(reader.file(first.shardIndex()), first.shardIndex(), names[t]);
        }
        set(tensorsOk, t);
        verifiedBytes.addAndGet(parts.stream().mapToLong(MemorySegment::byteSize).sum());
    }

    /** Indices of the pieces of {@code shard} that overlap [offset, end), in order. */
    private int[] overlapping(int shard, long offset, long end) {
        long[] e = ends[shard];
        int lo = Arrays.binarySearch(e, offset);
        lo = lo >= 0 ? lo + 1 : -lo - 1; // first piece ending after offset
        int hi = lo;
        while (hi < e.length && starts[shard][hi] < end) {
            hi++;
        }
        int[] out = new int[hi - lo];
        for (int i = 0; i < out.length; i++) {
            out[i] = lo + i;
        }
        return out;
    }

    /** Whether pieces {@code ks} of {@code shard} leave no byte of [offset, end) uncovered. */
    private boolean covers(int shard, int[] ks, long offset, long end) {
        long at = offset;
        for (int k : ks) {
            if (starts[shard][k] > at) {
                return false;
            }
            at = Math.max(at, ends[shard][k]);
        }
        return at >= end;
    }

    private static boolean isSet(AtomicLongArray bits, int i) {
        return (bits.get(i >>> 6) & (1L << i)) != 0;
    }

    private static void set(AtomicLongArray bits, int i) {
        bits.getAndUpdate(i >>> 6, w -> w | (1L << i));
    }
}
