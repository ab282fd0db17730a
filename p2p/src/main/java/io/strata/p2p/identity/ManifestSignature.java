package io.strata.p2p.identity;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;

/**
 * A publisher's Ed25519 signature over the exact bytes of manifest.json, kept beside it as {@code manifest.sig}:
 * one line {@code ed25519 <public key hex> <signature hex>}. On the wire: 32 key bytes then 64 signature bytes.
 */
public record ManifestSignature(byte[] publicKey, byte[] signature) {
    public static final String FILE_NAME = "manifest.sig";
    public static final int WIRE_LEN = Ed25519.PUBLIC_KEY_LEN + Ed25519.SIGNATURE_LEN;

    public ManifestSignature {
        if (publicKey.length != Ed25519.PUBLIC_KEY_LEN || signature.length != Ed25519.SIGNATURE_LEN) {
            throw new IllegalArgumentException("manifest signature: key must be 32 bytes and signature 64");
        }
        publicKey = publicKey.clone();
        signature = signature.clone();
    }

    public static ManifestSignature sign(NodeIdentity publisher, byte[] manifestJson) {
        return new ManifestSignature(publisher.publicKey(), publisher.sign(manifestJson));
    }

    public boolean verifies(byte[] manifestJson) {
        return Ed25519.verify(publicKey, manifestJson, signature);
    }

    /** True when signed by {@code trusted} and valid over {@code manifestJson}. */
    public boolean verifies(byte[] manifestJson, byte[] trusted) {
        return java.util.Arrays.equals(publicKey, trusted) && verifies(manifestJson);
    }

    public byte[] toWire() {
        byte[] out = new byte[WIRE_LEN];
        System.arraycopy(publicKey, 0, out, 0, publicKey.length);
        System.arraycopy(signature, 0, out, publicKey.length, signature.length);
        return out;
    }

    /** Null for an empty (unsigned) wire form. */
    public static ManifestSignature fromWire(byte[] b) {
        if (b.length == 0) {
            return null;
        }
        if (b.length != WIRE_LEN) {
            throw new IllegalArgumentException("manifest signature of " + b.length + " bytes, expected " + WIRE_LEN);
        }
        return new ManifestSignature(java.util.Arrays.copyOf(b, 32), java.util.Arrays.copyOfRange(b, 32, WIRE_LEN));
    }

    /** The contents of manifest.sig. */
    public byte[] fileBytes() {
        HexFormat hex = HexFormat.of();
        return ("ed25519 " + hex.formatHex(publicKey) + " " + hex.formatHex(signature) + "\n")
                .getBytes(StandardCharsets.US_ASCII);
    }

    /** Writes {@code dir/manifest.sig} (a publisher signing its own model directory). */
    public void write(Path dir) throws IOException {
        Path tmp = dir.resolve(FILE_NAME + ".tmp");
        Files.write(tmp, fileBytes());
        Files.move(tmp, dir.resolve(FILE_NAME), java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    /** Reads {@code dir/manifest.sig}; null when absent; IOException naming the file when malformed. */
    public static ManifestSignature read(Path dir) throws IOException {
        Path f = dir.resolve(FILE_NAME);
        if (!Files.exists(f)) {
            return null;
        }
        if (!Files.isRegularFile(f) || Files.size(f) > 1024) { // never block on a FIFO or read /dev/zero
            throw new IOException(f + ": not a regular file of at most 1 KiB (a manifest signature line)");
        }
        String[] parts = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1).trim().split("\\s+");
        try {
            if (parts.length != 3 || !parts[0].equals("ed25519")) {
                throw new IllegalArgumentException("expected 'ed25519 KEY SIGNATURE'");
            }
            return new ManifestSignature(HexFormat.of().parseHex(parts[1]), HexFormat.of().parseHex(parts[2]));
        } catch (IllegalArgumentException e) {
            throw new IOException(f + ": malformed signature file: " + e.getMessage());
        }
    }

    /** A trusted publisher key: 64 hex digits, or a file holding them (as printed by {@code strata peer --sign-key}). */
    public static byte[] parseTrustedKey(String keyOrFile) throws IOException {
        String s = keyOrFile.trim();
        Path p = Path.of(s);
        if (!s.matches("[0-9a-fA-F]{64}") && Files.isRegularFile(p)) {
            s = Files.readString(p, StandardCharsets.US_ASCII).trim();
        }
        if (!s.matches("[0-9a-fA-F]{64}")) {
            throw new IOException("--trust " + keyOrFile + ": not a 64-hex-digit Ed25519 public key (or a file holding one)");
        }
        return HexFormat.of().parseHex(s.toLowerCase(java.util.Locale.ROOT));
    }
}
