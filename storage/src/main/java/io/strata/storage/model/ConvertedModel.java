package io.strata.storage.model;

import io.strata.core.hash.Blake3;
import io.strata.core.manifest.GroupInfo;
import io.strata.core.manifest.Manifest;
import io.strata.core.manifest.ManifestCodec;
import io.strata.core.manifest.ManifestException;
import io.strata.core.manifest.ShardInfo;
import io.strata.core.manifest.TensorInfo;
import io.strata.core.model.ExpertId;
import io.strata.storage.mmap.MappedFile;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * A converted model directory ({@code manifest.json} plus shard files), opened for reading. The manifest is
 * validated, every shard is checked to exist with the manifest's size, and shards are memory-mapped on first use.
 * Every accessor returns a zero-copy slice of a mapping, valid until {@link #close()}; reading one afterwards
 * throws {@link IllegalStateException}. Contents are not re-hashed here (that is {@code strata verify}'s job).
 */
public final class ConvertedModel implements AutoCloseable {
    private final Path dir;
    private final Manifest manifest;
    private final String manifestHash;
    private final MappedFile[] mappings;
    private boolean closed;

    private ConvertedModel(Path dir, Manifest manifest, String manifestHash) {
        this.dir = dir;
        this.manifest = manifest;
        this.manifestHash = manifestHash;
        this.mappings = new MappedFile[manifest.shards().size()];
    }

    public static ConvertedModel open(Path dir) {
        Path file = dir.resolve(Manifest.FILE_NAME);
        byte[] bytes = ManifestCodec.readBytes(file);
        Manifest m = ManifestCodec.fromBytes(bytes, file.toString());
        for (ShardInfo s : m.shards()) {
            Path p = dir.resolve(s.filename());
            long actual;
            try {
                actual = Files.size(p);
            } catch (NoSuchFileException e) {
                throw new ManifestException(p + ": shard " + s.index() + " listed in " + Manifest.FILE_NAME
                        + " does not exist", e);
            } catch (IOException e) {
                throw new ManifestException(p + ": cannot read shard " + s.index() + ": " + e.getMessage(), e);
            }
            if (actual != s.size()) {
                throw new ManifestException(p + ": shard " + s.index() + " is " + actual + " bytes, the manifest says "
                        + s.size() + " (truncated or replaced?)");
            }
        }
        return new ConvertedModel(dir, m, Blake3.hashHex(bytes));
    }

    public Path dir() {
        return dir;
    }

    public Manifest manifest() {
        return manifest;
    }

    /** BLAKE3 (hex) of manifest.json's bytes: the model's name in the disk cache and on the wire. */
    public String manifestHash() {
        return manifestHash;
    }

    /** The whole shard file {@code index}, mapped on first use. */
    public MemorySegment shardSegment(int index) {
        return mapping(index).segment();
    }

    /** The stored bytes of an unsliced tensor. */
    public MemorySegment tensor(String name) {
        return view(name, manifest.tensor(name));
    }

    /**
     * The part a TP rank loads: the slice {@code rank} of a sliced tensor, or the whole tensor when it is
     * replicated (stored once, {@code sliceCount} 1).
     */
    public MemorySegment tensorSlice(String name, int rank) {
        return view(name, tensorInfo(name, rank));
    }

    /** The manifest entry of the slice a TP rank loads (the single entry of a replicated tensor). */
    public TensorInfo tensorInfo(String name, int rank) {
        List<TensorInfo> entries = manifest.tensors().get(name);
        if (entries == null) {
            throw new ManifestException(dir + ": no tensor named '" + name + "'");
        }
        if (entries.size() == 1 && entries.getFirst().sliceCountOrOne() == 1) {
            if (rank < 0) {
                throw new IllegalArgumentException("negative TP rank " + rank);
            }
            return entries.getFirst();
        }
        if (rank < 0 || rank >= entries.size()) {
            throw new ManifestException(dir + ": tensor '" + name + "' has " + entries.size()
                    + " TP slices, no slice " + rank);
        }
        return entries.get(rank);
    }

    /** A group's whole byte range (for an expert: w1, w3, w2 back to back, with alignment padding). */
    public MemorySegment group(String groupName) {
        GroupInfo g = manifest.groups().get(groupName);
        if (g == null) {
            throw new ManifestException(dir + ": no group named '" + groupName + "'");
        }
        return mapping(g.shard()).slice(g.offset(), g.size());
    }

    public MemorySegment expertGroup(ExpertId id) {
        return group(id.groupName());
    }

    private MemorySegment view(String name, TensorInfo t) {
        if (t.spans() != null) {
            throw new ManifestException(dir + ": tensor '" + name + "' is split into spans across shards;"
                    + " it has no single zero-copy view");
        }
        return mapping(t.shard()).slice(t.offset(), t.size());
    }

    private synchronized MappedFile mapping(int index) {
        if (closed) {
            throw new IllegalStateException(dir + ": model is closed");
        }
        ShardInfo s = manifest.shard(index);
        MappedFile m = mappings[index];
        if (m == null) {
            Path p = dir.resolve(s.filename());
            try {
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

    /** Unmaps every shard; segments handed out before become unreadable (IllegalStateException). */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (int i = 0; i < mappings.length; i++) {
            if (mappings[i] != null) {
                mappings[i].release();
                mappings[i] = null;
            }
        }
    }
}
