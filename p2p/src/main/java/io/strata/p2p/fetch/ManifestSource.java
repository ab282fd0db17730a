package io.strata.p2p.fetch;

import io.strata.core.manifest.Manifest;
import io.strata.core.manifest.ManifestCodec;
import io.strata.core.manifest.ManifestException;
import io.strata.p2p.identity.ManifestSignature;
import io.strata.p2p.node.PeerConnection;
import io.strata.p2p.node.PeerNode;
import io.strata.p2p.store.ShardNames;
import io.strata.p2p.wire.Message;
import io.strata.p2p.wire.ModelHash;
import io.strata.p2p.wire.Wire;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Obtains a model's manifest: from a local manifest.json, or from peers by hash. Bytes whose BLAKE3 differs from the
 * requested hash get the sending peer banned. With a trusted publisher key, a manifest without a valid signature by
 * that key is refused.
 */
public final class ManifestSource {
    /** A manifest with its exact bytes and (optional) publisher signature. */
    public record Obtained(ModelHash hash, byte[] json, Manifest manifest, ManifestSignature signature) {
    }

    private ManifestSource() {
    }

    /** Reads {@code file} (and manifest.sig beside it); checks the signature when {@code trusted} is given. */
    public static Obtained fromFile(Path file, byte[] trusted) throws IOException {
        byte[] json = Files.readAllBytes(file);
        Manifest m = ManifestCodec.fromBytes(json, file.toString());
        checkFetchable(m, file.toString());
        ManifestSignature sig = ManifestSignature.read(file.toAbsolutePath().getParent());
        if (trusted != null && (sig == null || !sig.verifies(json, trusted))) {
            throw new IOException(file + ": " + (sig == null ? "not signed" : "not signed by the trusted key")
                    + " (--trust " + HexFormat.of().formatHex(trusted) + ")");
        }
        return new Obtained(ModelHash.ofManifest(json), json, m, sig);
    }

    /** Asks connected peers in turn until one returns the manifest named {@code hash} (and trusted, if asked). */
    public static Obtained fromPeers(PeerNode node, ModelHash hash, byte[] trusted, Duration timeout)
            throws IOException {
        List<String> why = new ArrayList<>();
        for (PeerConnection c : node.connections()) {
            Message.ManifestData md;
            try {
                md = c.getManifest(hash).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (ExecutionException | TimeoutException e) {
                why.add(c + ": " + (e.getCause() != null ? e.getCause() : e));
                continue;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while fetching manifest " + hash.hex(), e);
            }
            if (md == null) {
                why.add(c + ": does not have it");
                continue;
            }
            if (!ModelHash.ofManifest(md.json()).equals(hash)) {
                node.ban(c, "sent a manifest whose hash is not " + hash.hex());
                why.add(c + ": sent a manifest with the wrong hash (banned)");
                continue;
            }
            ManifestSignature sig;
            try {
                sig = ManifestSignature.fromWire(md.signature());
            } catch (IllegalArgumentException e) {
                sig = null;
            }
            if (trusted != null && (sig == null || !sig.verifies(md.json(), trusted))) {
                why.add(c + ": manifest " + (sig == null ? "not signed" : "not signed by the trusted key"));
                continue;
            }
            String source = "manifest " + hash.hex();
            Manifest m;
            try {
                m = ManifestCodec.fromBytes(md.json(), source);
            } catch (ManifestException e) {
                throw new IOException(e.getMessage(), e);
            }
            checkFetchable(m, source);
            return new Obtained(hash, md.json(), m, sig);
        }
        throw new IOException("manifest " + hash.hex() + (trusted != null ? " signed by "
                + HexFormat.of().formatHex(trusted) : "") + ": no connected peer provided it"
                + (why.isEmpty() ? " (no peers connected)" : " (" + String.join("; ", why) + ")"));
    }

    /** What a fetch needs of a manifest beyond parsing: chunks the protocol can carry, safe shard file names. */
    private static void checkFetchable(Manifest m, String source) throws IOException {
        ShardNames.check(m, source);
        if (m.chunkSize() > Wire.MAX_CHUNK) {
            throw new IOException(source + ": chunkSize " + m.chunkSize() + " exceeds the peer protocol's limit of "
                    + Wire.MAX_CHUNK + " bytes");
        }
    }
}
