package io.strata.core.model;

/** The memory hierarchy, fastest first. ORIGIN is the converted model directory itself. */
public enum Tier {
    DEVICE, HOST, DISK, PEER, ORIGIN;

    public boolean fasterThan(Tier other) {
        return ordinal() < other.ordinal();
    }
}
