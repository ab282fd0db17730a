package io.strata.p2p.node;

import java.io.IOException;

/** A peer answered REJECT. */
public final class RequestRejectedException extends IOException {
    private final int reason;

    public RequestRejectedException(String message, int reason) {
        super(message);
        this.reason = reason;
    }

    public int reason() {
        return reason;
    }
}
