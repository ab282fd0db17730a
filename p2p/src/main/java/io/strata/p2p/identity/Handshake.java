package io.strata.p2p.identity;

import java.nio.charset.StandardCharsets;

/**
 * What each side signs in the handshake: a context string, the nonce the other side chose, then the signer's and
 * the verifier's ids. Binding both ids stops a relay from replaying one side's answer to a third node.
 */
public final class Handshake {
    private static final byte[] CONTEXT = "strata-p2p/1 handshake".getBytes(StandardCharsets.US_ASCII);

    private Handshake() {
    }

    public static byte[] challenge(byte[] verifierNonce, NodeId signer, NodeId verifier) {
        byte[] s = signer.bytes();
        byte[] v = verifier.bytes();
        byte[] out = new byte[CONTEXT.length + verifierNonce.length + s.length + v.length];
        int p = 0;
        System.arraycopy(CONTEXT, 0, out, p, CONTEXT.length);
        p += CONTEXT.length;
        System.arraycopy(verifierNonce, 0, out, p, verifierNonce.length);
        p += verifierNonce.length;
        System.arraycopy(s, 0, out, p, s.length);
        p += s.length;
        System.arraycopy(v, 0, out, p, v.length);
        return out;
    }
}
