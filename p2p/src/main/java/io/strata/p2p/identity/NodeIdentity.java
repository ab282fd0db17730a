package io.strata.p2p.identity;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.util.HexFormat;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;

/**
 * An Ed25519 key pair: a node's identity (its public key is the node id) or a publisher's signing key. Key files
 * hold the 32-byte private seed as 64 hex digits on one line.
 */
public final class NodeIdentity {
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Ed25519PrivateKeyParameters privateKey;
    private final NodeId id;

    private NodeIdentity(Ed25519PrivateKeyParameters privateKey) {
        this.privateKey = privateKey;
        this.id = new NodeId(privateKey.generatePublicKey().getEncoded());
    }

    public static NodeIdentity generate() {
        return new NodeIdentity(new Ed25519PrivateKeyParameters(RANDOM));
    }

    public static NodeIdentity fromSeed(byte[] seed) {
        return new NodeIdentity(new Ed25519PrivateKeyParameters(seed, 0));
    }

    /** Reads a key file; throws IOException naming the file and the reason. */
    public static NodeIdentity load(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.US_ASCII).trim();
        try {
            byte[] seed = HexFormat.of().parseHex(text);
            if (seed.length != Ed25519PrivateKeyParameters.KEY_SIZE) {
                throw new IllegalArgumentException("wrong length");
            }
            return fromSeed(seed);
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": not an Ed25519 key file (expected 64 hex digits of private seed)");
        }
    }

    /** Loads {@code file}, or creates it (owner-only readable where supported) with a fresh key. */
    public static NodeIdentity loadOrCreate(Path file) throws IOException {
        if (Files.exists(file)) {
            return load(file);
        }
        NodeIdentity k = generate();
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, HexFormat.of().formatHex(k.privateKey.getEncoded()) + "\n",
                StandardCharsets.US_ASCII);
        try {
            Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException ignored) {
            // not a POSIX file system
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
        return k;
    }

    public NodeId id() {
        return id;
    }

    public byte[] publicKey() {
        return id.bytes();
    }

    public byte[] sign(byte[] message) {
        Ed25519Signer s = new Ed25519Signer();
        s.init(true, privateKey);
        s.update(message, 0, message.length);
        return s.generateSignature();
    }
}
