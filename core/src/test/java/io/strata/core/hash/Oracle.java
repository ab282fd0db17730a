package io.strata.core.hash;

import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.bouncycastle.crypto.digests.Blake3Digest;
import org.bouncycastle.crypto.params.Blake3Parameters;

/** Bouncy Castle's independent BLAKE3, the expected values for every test, and test inputs. */
final class Oracle {
    private Oracle() {
    }

    static byte[] hash(byte[] data) {
        return digest(new Blake3Digest(256), data, 0, data.length);
    }

    static byte[] hash(byte[] data, int off, int len) {
        return digest(new Blake3Digest(256), data, off, len);
    }

    static byte[] keyed(byte[] key, byte[] data) {
        Blake3Digest d = new Blake3Digest(256);
        d.init(Blake3Parameters.key(key));
        return digest(d, data, 0, data.length);
    }

    static byte[] deriveKey(String context, byte[] material) {
        Blake3Digest d = new Blake3Digest(256);
        d.init(Blake3Parameters.context(context.getBytes(StandardCharsets.UTF_8)));
        return digest(d, material, 0, material.length);
    }

    private static byte[] digest(Blake3Digest d, byte[] data, int off, int len) {
        d.update(data, off, len);
        byte[] out = new byte[32];
        d.doFinal(out, 0);
        return out;
    }

    /** The official test vectors' input: bytes 0, 1, ..., 250, 0, 1, ... */
    static byte[] pattern(int len) {
        byte[] b = new byte[len];
        for (int i = 0; i < len; i++) {
            b[i] = (byte) (i % 251);
        }
        return b;
    }

    static byte[] random(int len, long seed) {
        byte[] b = new byte[len];
        new Random(seed).nextBytes(b);
        return b;
    }
}
