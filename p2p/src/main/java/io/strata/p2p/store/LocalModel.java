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
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A model this node holds, whole or in part: its manifest (exact bytes, whose BLAKE3 names it), an optional
 * publisher signature, and one {@link LocalShard} per shard and per bundled file ({@link ModelFiles}). Only verified bytes are ever marked present. A model
 * being received writes only into its {@link OutputStaging} directory until {@link #publishManifest()} moves the
 * shards, manifest.sig and finally manifest.json into the model directory.
 */
public final class LocalModel {
    private final ModelHash hash;
    private final byte[] manifestJson;
    private final Manifest manifest;
    private final ManifestSignature signature;
    private final Path dir;
    private final List<LocalShard> shards;
    private final OutputStaging staging;
    private final boolean replace;

    private LocalModel(byte[] manifestJson, Manifest manifest, ManifestSignature signature, Path dir,
                       List<LocalShard> shards, OutputStaging staging, boolean replace) {
        this.hash = ModelHash.ofManifest(manifestJson);
        this.manifestJson = manifestJson.clone();
        this.manifest = manifest;
        this.signature = signature;
        this.dir = dir;
        this.shards = List.copyOf(shards);
        this.staging = staging;
        this.replace = replace;
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
        ShardNames.check(m, mf.toString());
        ManifestSignature sig = signatureOverride != null ? signatureOverride : ManifestSignature.read(dir);
        List<LocalShard> shards = new ArrayList<>();
        for (ShardInfo s : ModelFiles.of(m)) {
            Path f = dir.resolve(s.filename());
            boolean ok = Files.isRegularFile(f) && Files.size(f) == s.size();
            shards.add(ok ? LocalShard.complete(s, m.chunkSize(), m.hashAlgorithmOrBlake3(), dir)
                    : LocalShard.empty(s, m.chunkSize(), m.hashAlgorithmOrBlake3(), dir, null));
        }
        return new LocalModel(json, m, sig, dir, shards, null, false);
    }

    /**
     * Prepares {@code dir} to receive {@code m}: a regular file already there that is exactly what the fetch would
     * write (a shard with the manifest's size and whole-file hash, identical manifest.json or manifest.sig) is kept;
     * anything else of one of those names is refused unless {@code replace}, before a byte is fetched. Everything to
     * fetch is written into a fresh staging directory in {@code dir}.
     */
    public static LocalModel createReceiving(Path dir, byte[] json, Manifest m, ManifestSignature sig,
                                             boolean replace) throws IOException {
        ShardNames.check(m, "manifest " + ModelHash.ofManifest(json).hex());
        if (Manifest.HASH_DOPPLER_BLAKE3.equals(m.hashAlgorithm())) {
            throw new IOException("model " + ModelHash.ofManifest(json).hex() + ": its shard hashes were made by"
                    + " DOPPLER's blake3, which is not standard BLAKE3, so received shards cannot be checked; not"
                    + " fetching it (copy the directory and check it with strata verify instead)");
        }
        OutputStaging staging = OutputStaging.create(dir);
        try {
            List<LocalShard> shards = new ArrayList<>();
            for (ShardInfo s : ModelFiles.of(m)) {
                Path f = dir.resolve(s.filename());
                boolean ok = Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS) && Files.size(f) == s.size()
                        && ShardHasher.fileHash(f, m.hashAlgorithmOrBlake3()).equals(s.hash());
                if (!ok) {
                    refuseUnlessReplacing(f, replace, "is not shard " + s.index() + " of this model");
                }
                shards.add(ok ? LocalShard.complete(s, m.chunkSize(), m.hashAlgorithmOrBlake3(), dir)
                        : LocalShard.empty(s, m.chunkSize(), m.hashAlgorithmOrBlake3(), dir, staging));
            }
            if (!holds(dir.resolve(Manifest.FILE_NAME), json)) {
                refuseUnlessReplacing(dir.resolve(Manifest.FILE_NAME), replace, "is another manifest");
            }
            if (sig != null && !holds(dir.resolve(ManifestSignature.FILE_NAME), sig.fileBytes())) {
                refuseUnlessReplacing(dir.resolve(ManifestSignature.FILE_NAME), replace, "is another signature");
            }
            return new LocalModel(json, m, sig, dir, shards, staging, replace);
        } catch (IOException | RuntimeException e) {
            staging.discard();
            throw e;
        }
    }

    /** True when {@code f} is a regular file (not a link) holding exactly {@code bytes}. */
    private static boolean holds(Path f, byte[] bytes) throws IOException {
        return Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS) && Files.size(f) == bytes.length
                && Arrays.equals(Files.readAllBytes(f), bytes);
    }

    private static void refuseUnlessReplacing(Path f, boolean replace, String what) throws IOException {
        if (Files.isDirectory(f, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException(f + " is a directory; the model needs that name for a file");
        }
        if (!replace && Files.exists(f, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException(f + " already exists and " + what + "; not overwriting it (give --force to)");
        }
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

    /**
     * Once every shard is complete: moves the received shards into the model directory, then manifest.sig, then
     * manifest.json (last: a directory with a manifest is a whole model), and removes the staging directory.
     */
    public void publishManifest() throws IOException {
        if (!isComplete()) {
            throw new IOException(dir + ": cannot write the manifest before every shard is complete");
        }
        if (staging == null) {
            throw new IOException(dir + ": this model is served, not received");
        }
        List<Path> published = new ArrayList<>();
        try {
            for (LocalShard s : shards) {
                if (s.publish(replace)) {
                    published.add(dir.resolve(s.info().filename()));
                }
            }
            if (signature != null && !holds(dir.resolve(ManifestSignature.FILE_NAME), signature.fileBytes())) {
                staging.write(ManifestSignature.FILE_NAME, signature.fileBytes());
                staging.publish(ManifestSignature.FILE_NAME, replace);
                published.add(dir.resolve(ManifestSignature.FILE_NAME));
            }
            if (!holds(dir.resolve(Manifest.FILE_NAME), manifestJson)) {
                staging.write(Manifest.FILE_NAME, manifestJson);
                staging.publish(Manifest.FILE_NAME, replace);
            }
        } catch (IOException | RuntimeException e) {
            for (Path p : published) { // something appeared under one of our names meanwhile: take ours back
                Files.deleteIfExists(p);
            }
            throw e;
        }
        staging.finish();
    }

    /** Drops what was received: closes the shard writers and deletes the staging directory (no partial output). */
    public void abandon() throws IOException {
        for (LocalShard s : shards) {
            s.abandon();
        }
        if (staging != null) {
            staging.discard();
        }
    }

    /** The staging directory of a model being received (null when served). */
    public Path stagingDir() {
        return staging == null ? null : staging.path();
    }
}
