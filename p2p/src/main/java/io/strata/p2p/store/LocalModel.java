package io.strata.p2p.store;

import io.strata.core.manifest.Manifest;
import io.strata.core.manifest.ManifestCodec;
import io.strata.core.manifest.ShardInfo;
import io.strata.p2p.identity.ManifestSignature;
import io.strata.p2p.wire.Bitfield;
import io.strata.p2p.wire.ModelHash;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * A model this node holds, whole or in part: its manifest (exact bytes, whose BLAKE3 names it), an optional
 * publisher signature, and one {@link LocalShard} per shard. Only verified bytes are ever marked present.
 */
public final class LocalModel {
    private final ModelHash hash;
    private final byte[] manifestJson;
    private final Manifest manifest;
    private final ManifestSignature signature;
    private final Path dir;
    private final List<LocalShard> shards;

    private LocalModel(byte[] manifestJson, Manifest manifest, ManifestSignature signature, Path dir,
                       List<LocalShard> shards) {
        this.hash = ModelHash.ofManifest(manifestJson);
        this.manifestJson = manifestJson.clone();
        this.manifest = manifest;
        this.signature = signature;
        this.dir = dir;
        this.shards = List.copyOf(shards);
    }

    /**
     * Opens a converted model directory to serve it: every shard file present with the manifest's size counts as
     * complete (the origin is trusted; receivers verify every chunk anyway); missing shards are simply not offered.
     */
    public static LocalModel openServing(Path dir, ManifestSignature signatureOverride) throws IOException {
        Path mf = dir.resolve(Manifest.FILE_NAME);
        if (!Files.isRegularFile(mf)) {
            throw new IOException(mf + ": no such file (is " + dir + " a converted model directory?)");
        }
        byte[] json = Files.readAllBytes(mf);
        Manifest m;
        try {
            m = ManifestCodec.fromBytes(json, mf.toString());
        } catch (io.strata.core.manifest.ManifestException e) {
            throw new IOException(e.getMessage(), e);
        }
        ManifestSignature sig = signatureOverride != null ? signatureOverride : ManifestSignature.read(dir);
        List<LocalShard> shards = new ArrayList<>();
        for (ShardInfo s : m.shards()) {
            Path f = dir.resolve(s.filename());
            boolean ok = Files.isRegularFile(f) && Files.size(f) == s.size();
            shards.add(ok ? LocalShard.complete(s, m.chunkSize(), dir) : LocalShard.empty(s, m.chunkSize(), dir));
        }
        return new LocalModel(json, m, sig, dir, shards);
    }

    /**
     * Prepares {@code dir} to receive {@code manifest}: shards already there whose whole-file hash matches are kept,
     * everything else starts empty (stale .part files are discarded).
     */
    public static LocalModel createReceiving(Path dir, byte[] json, Manifest m, ManifestSignature sig)
            throws IOException {
        Files.createDirectories(dir);
        List<LocalShard> shards = new ArrayList<>();
        for (ShardInfo s : m.shards()) {
            Path f = dir.resolve(s.filename());
            Files.deleteIfExists(dir.resolve(s.filename() + LocalShard.PART_SUFFIX));
            boolean ok = Files.isRegularFile(f) && Files.size(f) == s.size()
                    && ShardHasher.fileHash(f).equals(s.hash());
            shards.add(ok ? LocalShard.complete(s, m.chunkSize(), dir) : LocalShard.empty(s, m.chunkSize(), dir));
        }
        return new LocalModel(json, m, sig, dir, shards);
    }

    public ModelHash hash() {
        return hash;
    }

    public byte[] manifestJson() {
        return manifestJson.clone();
    }

    public Manifest manifest() {
        return manifest;
    }

    public ManifestSignature signature() {
        return signature;
    }

    public Path dir() {
        return dir;
    }

    public List<LocalShard> shards() {
        return shards;
    }

    public LocalShard shard(int index) {
        return index >= 0 && index < shards.size() ? shards.get(index) : null;
    }

    public boolean has(int shard, int chunk) {
        LocalShard s = shard(shard);
        return s != null && chunk >= 0 && chunk < s.chunkCount() && s.have().get(chunk);
    }

    public List<Bitfield> haveMap() {
        List<Bitfield> out = new ArrayList<>(shards.size());
        for (LocalShard s : shards) {
            out.add(s.have().copy());
        }
        return out;
    }

    public boolean isComplete() {
        return shards.stream().allMatch(LocalShard::isComplete);
    }

    /** Stores a chunk that has already been verified; true when its shard now has every chunk. */
    public boolean writeVerified(ChunkKey key, ByteBuffer bytes) throws IOException {
        return shards.get(key.shard()).write(key.chunk(), bytes);
    }

    /** Whole-file check and rename of a shard that has every chunk (see {@link LocalShard#finish()}). */
    public boolean finishShard(int shard) throws IOException {
        return shards.get(shard).finish();
    }

    /** Writes manifest.json (and manifest.sig) atomically, once every shard is complete. */
    public void publishManifest() throws IOException {
        if (!isComplete()) {
            throw new IOException(dir + ": cannot write the manifest before every shard is complete");
        }
        if (signature != null) {
            signature.write(dir);
        }
        Path tmp = dir.resolve(Manifest.FILE_NAME + ".tmp");
        Files.write(tmp, manifestJson);
        Files.move(tmp, dir.resolve(Manifest.FILE_NAME), StandardCopyOption.ATOMIC_MOVE,
                StandardCopyOption.REPLACE_EXISTING);
    }

    /** Deletes every unfinished .part file (a failed fetch leaves no partial output behind). */
    public void abandon() throws IOException {
        for (LocalShard s : shards) {
            s.abandon();
        }
    }
}
