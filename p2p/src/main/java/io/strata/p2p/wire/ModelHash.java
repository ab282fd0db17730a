package io.strata.p2p.wire;

import io.strata.core.hash.Blake3;
import java.util.Arrays;
import java.util.HexFormat;

/** The BLAKE3 hash of a manifest.json: the name of a model on the wire and in the cache. */
public final class ModelHash {
    private final byte[] bytes;

    private ModelHash(byte[] bytes) {
        if (bytes.length != Wire.MODEL_HASH_LEN) {
            throw new IllegalArgumentException("model hash must be " + Wire.MODEL_HASH_LEN + " bytes, got "
                    + bytes.length);
        }
        this.bytes = bytes.clone();
    }

    public static ModelHash of(byte[] bytes) {
        return new ModelHash(bytes);
    }

    public static ModelHash ofManifest(byte[] manifestJson) {
        return new ModelHash(Blake3.hash(manifestJson));
    }

    /** Parses 64 hex digits; throws IllegalArgumentException naming the input otherwise. */
    public static ModelHash parse(String hex) {
        if (hex.length() != 2 * Wire.MODEL_HASH_LEN) {
            throw new IllegalArgumentException("'" + hex + "' is not a manifest hash (64 hex digits)");
        }
        try {
            return new ModelHash(HexFormat.of().parseHex(hex));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + hex + "' is not a manifest hash (64 hex digits)", e);
        }
    }

    public byte[] bytes() {
        return bytes.clone();
    }

    public String hex() {
        return HexFormat.of().formatHex(bytes);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ModelHash m && Arrays.equals(bytes, m.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
        return hex().substring(0, 12);
    }
}
