package io.strata.storage.model;

import io.strata.core.hash.Blake3;
import io.strata.core.manifest.GroupInfo;
import io.strata.core.manifest.Manifest;
import io.strata.core.manifest.ManifestCodec;
import io.strata.core.manifest.ManifestException;
import io.strata.core.manifest.ShardInfo;
import io.strata.core.manifest.TensorInfo;
import io.strata.core.model.ExpertId;
import io.strata.core.util.RegularFiles;
import io.strata.storage.gguf.GgufManifest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * A converted model directory ({@code manifest.json} plus shard files), opened for reading. The manifest is
 * validated and every shard is checked to exist with the manifest's size. All access to the shard bytes goes
 * through one {@link ShardReader} ({@link #reader()}): the accessors here return zero-copy slices of its mappings
 * after verifying the chunks they cover against the manifest (once per chunk), valid until {@link #close()};
 * reading one afterwards throws {@link IllegalStateException}. TP slices are resolved by {@link TensorSlices}.
 */
public final class ConvertedModel implements AutoCloseable {
    private final Path dir;
    private final Manifest manifest;
    private final String manifestHash;
    private final ShardReader reader;
    private final TensorSlices slices;

    private ConvertedModel(Path dir, Manifest manifest, String manifestHash) {
        this.dir = dir;
        this.manifest = manifest;
        this.manifestHash = manifestHash;
        this.reader = ShardReader.open(dir, manifest);
        this.slices = new TensorSlices(manifest, dir.toString());
    }

    /**
     * Opens a converted model directory, or a GGUF file in place ({@link GgufManifest}: the file is the one shard,
     * and it has no hashes, so {@link #reader()}'s verifying reads refuse its bytes; the runtime reads them
     * unverified and says so).
     */
    public static ConvertedModel open(Path dir) {
        if (GgufManifest.isGguf(dir) && !Files.isDirectory(dir)) {
            Manifest m = GgufManifest.read(dir);
            Path parent = dir.toAbsolutePath().getParent();
            return new ConvertedModel(parent, m, Blake3.hashHex(ManifestCodec.toBytes(m)));
        }
        Path file = dir.resolve(Manifest.FILE_NAME);
        byte[] bytes = ManifestCodec.readBytes(file);
        Manifest m = ManifestCodec.fromBytes(bytes, file.toString());
        for (ShardInfo s : m.shards()) {
            Path p = dir.resolve(s.filename());
            long actual;
            try {
                RegularFiles.requireRegular(p);
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

    /** The one reader of this model's shard bytes (positional reads, verification, mappings, channels). */
    public ShardReader reader() {
        return reader;
    }

    /** The TP-slice resolver of this model. */
    public TensorSlices slices() {
        return slices;
    }

    /** The whole shard file {@code index}, mapped on first use (not verified: {@code strata verify} hashes it). */
    public MemorySegment shardSegment(int index) {
        return reader.segment(index);
    }

    /** The stored bytes of an unsliced tensor. */
    public MemorySegment tensor(String name) {
        return view(name, manifest.tensor(name));
    }

    /**
     * The part a TP rank loads as the model was converted: the slice {@code rank} of a sliced tensor, or the whole
     * tensor when it is replicated (stored once, {@code sliceCount} 1); see {@link TensorSlices}.
     */
    public MemorySegment tensorSlice(String name, int rank) {
        return view(name, tensorInfo(name, rank));
    }

    /** The manifest entry of the slice a TP rank loads (the single entry of a replicated tensor). */
    public TensorInfo tensorInfo(String name, int rank) {
        return slices.resolve(name, rank, TensorSlices.AS_CONVERTED).entry();
    }

    /** A group's whole byte range (for an expert: w1, w3, w2 back to back, with alignment padding). */
    public MemorySegment group(String groupName) {
        GroupInfo g = manifest.groups().get(groupName);
        if (g == null) {
            throw new ManifestException(dir + ": no group named '" + groupName + "'");
        }
        return view(g.shard(), g.offset(), g.size());
    }

    public MemorySegment expertGroup(ExpertId id) {
        return group(id.groupName());
    }

    private MemorySegment view(String name, TensorInfo t) {
        if (t.spans() != null) {
            throw new ManifestException(dir + ": tensor '" + name + "' is split into spans across shards;"
                    + " it has no single zero-copy view");
        }
        return view(t.shard(), t.offset(), t.size());
    }

    private MemorySegment view(int shard, long offset, long size) {
        try {
            return reader.view(shard, offset, size);
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }

    /** Closes the reader: segments handed out before become unreadable (IllegalStateException). */
    @Override
    public void close() {
        reader.close();
    }
}
