package io.strata.p2p.identity;

import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;

/** Ed25519 signature checks (Bouncy Castle). */
public final class Ed25519 {
    public static final int PUBLIC_KEY_LEN = Ed25519PublicKeyParameters.KEY_SIZE;
    public static final int SIGNATURE_LEN = 64;

    private Ed25519() {
    }

    /** True when {@code signature} is {@code publicKey}'s signature over {@code message}; false for any malformed input. */
    public static boolean verify(byte[] publicKey, byte[] message, byte[] signature) {
        if (publicKey == null || publicKey.length != PUBLIC_KEY_LEN || signature == null
                || signature.length != SIGNATURE_LEN) {
            return false;
        }
        try {
            Ed25519Signer v = new Ed25519Signer();
            v.init(false, new Ed25519PublicKeyParameters(publicKey, 0));
            v.update(message, 0, message.length);
            return v.verifySignature(signature);
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
