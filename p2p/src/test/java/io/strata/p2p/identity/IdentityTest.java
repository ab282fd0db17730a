package io.strata.p2p.identity;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdentityTest {
    @Test
    void handshakeSignatureBindsNonceAndBothIds() {
        NodeIdentity a = NodeIdentity.generate();
        NodeIdentity b = NodeIdentity.generate();
        NodeIdentity c = NodeIdentity.generate();
        byte[] nonce = new byte[32];
        nonce[0] = 1;
        byte[] sig = a.sign(Handshake.challenge(nonce, a.id(), b.id()));
        assertTrue(Ed25519.verify(a.publicKey(), Handshake.challenge(nonce, a.id(), b.id()), sig));
        byte[] other = nonce.clone();
        other[0] = 2;
        assertFalse(Ed25519.verify(a.publicKey(), Handshake.challenge(other, a.id(), b.id()), sig), "other nonce");
        assertFalse(Ed25519.verify(a.publicKey(), Handshake.challenge(nonce, a.id(), c.id()), sig), "relayed to c");
        assertFalse(Ed25519.verify(c.publicKey(), Handshake.challenge(nonce, a.id(), b.id()), sig), "other key");
        assertFalse(Ed25519.verify(a.publicKey(), Handshake.challenge(nonce, a.id(), b.id()), new byte[64]));
        assertFalse(Ed25519.verify(new byte[5], new byte[1], sig), "malformed key is false, not an exception");
    }

    @Test
    void keyFileRoundTripsAndRejectsGarbage(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("node.key");
        NodeIdentity k = NodeIdentity.loadOrCreate(f);
        assertEquals(k.id(), NodeIdentity.loadOrCreate(f).id());
        assertEquals(k.id(), NodeIdentity.load(f).id());
        assertNotEquals(k.id(), NodeIdentity.generate().id());
        Files.writeString(dir.resolve("bad.key"), "zz");
        IOException e = assertThrows(IOException.class, () -> NodeIdentity.load(dir.resolve("bad.key")));
        assertTrue(e.getMessage().contains("bad.key"));
    }

    @Test
    void manifestSignatureFileAndTrust(@TempDir Path dir) throws IOException {
        byte[] json = "{\"version\":1}\n".getBytes(StandardCharsets.UTF_8);
        NodeIdentity pub = NodeIdentity.generate();
        assertNull(ManifestSignature.read(dir));
        ManifestSignature s = ManifestSignature.sign(pub, json);
        s.write(dir);
        ManifestSignature back = ManifestSignature.read(dir);
        assertArrayEquals(s.toWire(), back.toWire());
        assertTrue(back.verifies(json, pub.publicKey()));
        assertFalse(back.verifies(json, NodeIdentity.generate().publicKey()), "signed, but not by the trusted key");
        byte[] tampered = json.clone();
        tampered[2] ^= 1;
        assertFalse(back.verifies(tampered, pub.publicKey()), "bytes changed after signing");
        assertArrayEquals(pub.publicKey(), ManifestSignature.parseTrustedKey(pub.id().hex()));
        Path keyFile = dir.resolve("publisher.pub");
        Files.writeString(keyFile, pub.id().hex() + "\n");
        assertArrayEquals(pub.publicKey(), ManifestSignature.parseTrustedKey(keyFile.toString()));
        assertThrows(IOException.class, () -> ManifestSignature.parseTrustedKey("nope"));
        Files.writeString(dir.resolve(ManifestSignature.FILE_NAME), "rsa 00 11\n");
        assertThrows(IOException.class, () -> ManifestSignature.read(dir));
    }
}
