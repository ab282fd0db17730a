package io.strata.storage.model;

import io.strata.core.hash.Blake3;
import io.strata.core.manifest.Manifest;
import io.strata.core.manifest.ManifestException;
import io.strata.core.manifest.ShardInfo;
import io.strata.core.util.RegularFiles;
import io.strata.storage.fs.FileRanges;
import io.strata.storage.mmap.MappedFile;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The one way into a converted model's shard bytes, for everything that reads them: positional reads (what the
 * runtime pages dense tensors and experts with: the kernel reads ahead in large requests, where copying from a
 * mapping would fault page by page), zero-copy views of mappings (ConvertedModel's accessors, the verifier) and the
 * file channels (zero-copy serving to peers). Shard files are opened only as regular files of the manifest's size.
 *
 * <p>Verification on read lives here and nowhere else. A verifying read returns only bytes that lie in chunks
 * whose BLAKE3 matched the manifest's chunk hash; each chunk is checked once per reader (the reader remembers
 * which), and only the chunks a read covers: a chunk it covers partly is read whole to be checked, and the part
 * handed out is copied from exactly the bytes that were checked. A mismatch throws {@link CorruptShardException}
 * and leaves the chunk unverified, so a repaired file reads again. A manifest without chunk hashes (DOPPLER's
 * SHA-256 ones) is checked the same way at the granularity it offers, per tensor or per whole shard
 * ({@link UnitVerifier}). A manifest with no hashes at all ({@link Manifest#HASH_NONE}: a GGUF file read in
 * place) cannot be verified: verifying reads of it throw {@link UnverifiableBytesException}. {@link #readTrusted}
 * skips the check ({@code --trust-local}, and the runtime for an unhashed GGUF origin).
 */
public final class ShardReader implements AutoCloseable {
    private final Path dir;
    private final Manifest manifest;
    private final long chunkSize;
    private final FileChannel[] channels; // guarded by this
    private final MappedFile[] mappings; // guarded by this
    /** One bit per chunk of each shard: its hash matched once. */
    private final AtomicLongArray[] verified;
    private final AtomicLong verifiedBytes = new AtomicLong();
    /** Verification for a manifest without chunk hashes (per tensor / whole shard); null when it has them. */
    private final UnitVerifier units;
    private boolean closed; // guarded by this

    private ShardReader(Path dir, Manifest manifest) {
        this.dir = dir;
        this.manifest = manifest;
        this.chunkSize = manifest.chunkSize();
        int n = manifest.shards().size();
        this.channels = new FileChannel[n];
        this.mappings = new MappedFile[n];
        this.verified = new AtomicLongArray[n];
        for (ShardInfo s : manifest.shards()) {
            verified[s.index()] = new AtomicLongArray(Math.max(1, (s.chunks().size() + 63) / 64));
        }
        this.units = manifest.hasChunkHashes() || !manifest.hasHashes() ? null : new UnitVerifier(this, manifest);
    }

    /** A reader over the shards of {@code dir} as {@code manifest} lists them; files open on first use. */
    public static ShardReader open(Path dir, Manifest manifest) {
        return new ShardReader(dir, manifest);
    }

    public Path dir() {
        return dir;
    }

    public Manifest manifest() {
        return manifest;
    }

    /** The path of shard {@code index}. */
    public Path file(int index) {
        return dir.resolve(manifest.shard(index).filename());
    }

    /**
     * Fills {@code dst} with the {@code dst.byteSize()} bytes of shard {@code shard} at {@code offset}, each
     * covered chunk verified against the manifest (once per chunk per reader).
     */
    public void read(int shard, long offset, MemorySegment dst) throws IOException {
        long size = dst.byteSize();
        ShardInfo s = checkRange(shard, offset, size);
        requireHashes(shard, offset, size);
        FileChannel ch = channel(shard);
        FileRanges.readFully(ch, offset, dst);
        if (size == 0) {
            return;
        }
        if (units != null) {
            units.check(shard, offset, dst);
            return;
        }
        long end = offset + size;
        int first = (int) (offset / chunkSize);
        int last = (int) ((end - 1) / chunkSize);
        int fullFirst = offset == s.chunkStart(first, chunkSize) ? first : first + 1;
        int fullLast = end == chunkEnd(s, last) ? last : last - 1;
        if (fullFirst <= fullLast && !allVerified(shard, fullFirst, fullLast)) {
            long from = s.chunkStart(fullFirst, chunkSize);
            check(s, fullFirst, dst.asSlice(from - offset, chunkEnd(s, fullLast) - from));
        }
        // chunks covered only in part: read whole, check, and hand out the checked bytes
        for (int c : first == last ? new int[]{first} : new int[]{first, last}) {
            if ((c >= fullFirst && c <= fullLast) || isVerified(shard, c)) {
                continue;
            }
            long cs = s.chunkStart(c, chunkSize);
            long ce = chunkEnd(s, c);
            try (Arena a = Arena.ofConfined()) {
                MemorySegment whole = a.allocate(ce - cs, 64);
                FileRanges.readFully(ch, cs, whole);
                check(s, c, whole);
                long lo = Math.max(cs, offset);
                long hi = Math.min(ce, end);
                MemorySegment.copy(whole, lo - cs, dst, lo - offset, hi - lo);
            }
        }
    }

    /** As {@link #read} without any check: for a model directory the user vouches for ({@code --trust-local}). */
    public void readTrusted(int shard, long offset, MemorySegment dst) throws IOException {
        checkRange(shard, offset, dst.byteSize());
        FileRanges.readFully(channel(shard), offset, dst);
    }

    /** A zero-copy view of {@code size} bytes of shard {@code shard} at {@code offset}, verified first. */
    public MemorySegment view(int shard, long offset, long size) throws IOException {
        verify(shard, offset, size);
        return mapping(shard).slice(offset, size);
    }

    /**
     * Checks every chunk covering [offset, offset + size) of shard {@code shard} that is not verified yet, hashing
     * the mapping (for callers that hand out the file's bytes themselves, e.g. zero-copy to a socket).
     */
    public void verify(int shard, long offset, long size) throws IOException {
        ShardInfo s = checkRange(shard, offset, size);
        requireHashes(shard, offset, size);
        if (size == 0) {
            return;
        }
        if (units != null) {
            units.checkMapped(shard, offset, size);
            return;
        }
        int first = (int) (offset / chunkSize);
        int last = (int) ((offset + size - 1) / chunkSize);
        if (!allVerified(shard, first, last)) {
            long from = s.chunkStart(first, chunkSize);
            check(s, first, mapping(shard).slice(from, chunkEnd(s, last) - from));
        }
    }

    /** The whole of shard {@code index}, mapped read-only on first use and kept until close; not verified. */
    public MemorySegment segment(int index) {
        return mapping(index).segment();
    }

    /** The open read channel of shard {@code index} (for zero-copy transfers); bytes read from it are unchecked. */
    public synchronized FileChannel channel(int index) throws IOException {
        ensureOpen();
        ShardInfo s = manifest.shard(index);
        FileChannel ch = channels[index];
        if (ch == null) {
            Path p = dir.resolve(s.filename());
            RegularFiles.requireRegular(p);
            ch = FileChannel.open(p, StandardOpenOption.READ);
            if (ch.size() != s.size()) {
                long actual = ch.size();
                ch.close();
                throw new ManifestException(p + ": shard " + index + " is " + actual + " bytes, the manifest says "
                        + s.size() + " (truncated or replaced?)");
            }
            channels[index] = ch;
        }
        return ch;
    }

    /** Chunk bytes that have passed verification so far. */
    public long verifiedBytes() {
        return verifiedBytes.get() + (units == null ? 0 : units.verifiedBytes());
    }

    private synchronized MappedFile mapping(int index) {
        ensureOpen();
        ShardInfo s = manifest.shard(index);
        MappedFile m = mappings[index];
        if (m == null) {
            Path p = dir.resolve(s.filename());
            try {
                RegularFiles.requireRegular(p);
                m = MappedFile.open(p);
            } catch (IOException e) {
                throw new ManifestException(p + ": cannot map shard " + index + ": " + e.getMessage(), e);
            }
            if (m.size() != s.size()) {
                m.release();
                throw new ManifestException(p + ": shard " + index + " is " + m.size() + " bytes, the manifest says "
                        + s.size());
            }
            mappings[index] = m;
        }
        return m;
    }

    /** Hashes {@code bytes}, the whole chunks from {@code firstChunk} on, against the manifest; marks them. */
    private void check(ShardInfo s, int firstChunk, MemorySegment bytes) throws CorruptShardException {
        List<String> got = bytes.byteSize() <= chunkSize ? List.of(Blake3.hashHex(bytes))
                : ShardHasher.chunkHashes(bytes, chunkSize);
        for (int k = 0; k < got.size(); k++) {
            int c = firstChunk + k;
            if (!got.get(k).equals(s.chunks().get(c))) {
                throw new CorruptShardException(dir.resolve(s.filename()), s.index(), c, s.chunkStart(c, chunkSize),
                        chunkEnd(s, c));
            }
        }
        for (int k = 0; k < got.size(); k++) {
            markVerified(s.index(), firstChunk + k);
        }
        verifiedBytes.addAndGet(bytes.byteSize());
    }

    private long chunkEnd(ShardInfo s, int chunk) {
        return s.chunkStart(chunk, chunkSize) + s.chunkLength(chunk, chunkSize);
    }

    private boolean isVerified(int shard, int chunk) {
        return (verified[shard].get(chunk >>> 6) & (1L << chunk)) != 0;
    }

    private boolean allVerified(int shard, int first, int last) {
        for (int c = first; c <= last; c++) {
            if (!isVerified(shard, c)) {
                return false;
            }
        }
        return true;
    }

    private void markVerified(int shard, int chunk) {
        verified[shard].getAndUpdate(chunk >>> 6, w -> w | (1L << chunk));
    }

    /** A model with no hashes at all (a GGUF file) has nothing a verifying read could check: refused, never faked. */
    private void requireHashes(int shard, long offset, long size) throws UnverifiableBytesException {
        if (!manifest.hasHashes()) {
            throw new UnverifiableBytesException(file(shard) + ": bytes [" + offset + ", " + (offset + size)
                    + "): the file carries no hashes (GGUF has none), so they cannot be verified; they can only be"
                    + " read unverified");
        }
    }

    private ShardInfo checkRange(int shard, long offset, long size) {
        ShardInfo s = manifest.shard(shard);
        if (offset < 0 || size < 0 || offset > s.size() - size) {
            throw new IllegalArgumentException("shard " + shard + ": bytes [" + offset + ", " + (offset + size)
                    + ") lie outside its " + s.size() + " bytes");
        }
        return s;
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException(dir + ": model is closed");
        }
    }

    /** Closes the channels and unmaps every shard; views handed out before become unreadable. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (int i = 0; i < channels.length; i++) {
            if (channels[i] != null) {
                try {
                    channels[i].close();
                } catch (IOException ignored) {
                    // read-only channel: nothing to lose
                }
                channels[i] = null;
            }
            if (mappings[i] != null) {
                mappings[i].release();
                mappings[i] = null;
            }
        }
    }
}
