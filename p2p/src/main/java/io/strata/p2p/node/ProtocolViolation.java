package io.strata.p2p.node;

/** A peer broke the protocol (well-formed frames in a wrong order or state); the connection is closed. */
public final class ProtocolViolation extends RuntimeException {
    public ProtocolViolation(String message) {
        super(message);
    }
}
