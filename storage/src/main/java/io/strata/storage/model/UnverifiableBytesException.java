package io.strata.storage.model;

import java.io.IOException;

/**
 * Shard bytes the manifest gives no usable hash for (a DOPPLER shard hashed with DOPPLER's non-standard blake3, in
 * no tensor with a block Merkle root): not known to be damaged, but not checkable either, so not handed out by a
 * verifying read.
 */
public final class UnverifiableBytesException extends IOException {
    UnverifiableBytesException(String message) {
        super(message);
    }
}
