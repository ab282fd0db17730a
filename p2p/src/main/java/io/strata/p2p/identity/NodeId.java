package io.strata.p2p.identity;

import io.strata.p2p.wire.Wire;
import java.util.Arrays;
import java.util.HexFormat;

/** A node's identity on the wire: its Ed25519 public key. */
public final class NodeId {
    private final byte[] key;

    public NodeId(byte[] key) {
        if (key.length != Wire.NODE_ID_LEN) {
            throw new IllegalArgumentException("node id must be " + Wire.NODE_ID_LEN + " bytes, got " + key.length);
        }
        this.key = key.clone();
    }

    public byte[] bytes() {
        return key.clone();
    }

    public String hex() {
        return HexFormat.of().formatHex(key);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NodeId n && Arrays.equals(key, n.key);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(key);
    }

    @Override
    public String toString() {
        return hex().substring(0, 12);
    }
}
