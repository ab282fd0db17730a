package io.strata.core.model;

/**
 * The memory hierarchy in the order a read falls through it, fastest first: device, host, the local disk cache,
 * the origin (the model directory or GGUF file itself, read in place) and last the peer mesh (only what no local
 * tier holds).
 */
public enum Tier {
    DEVICE, HOST, DISK, ORIGIN, PEER;

    public boolean fasterThan(Tier other) {
        return ordinal() < other.ordinal();
    }
}
