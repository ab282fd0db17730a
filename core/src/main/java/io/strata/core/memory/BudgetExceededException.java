package io.strata.core.memory;

import io.strata.core.util.Sizes;

/**
 * A reservation that could not fit even after evicting every unpinned entry. Carries the figures needed to act on
 * it: which tier and pool, how much was asked, how much was free, and how much is held by pinned entries.
 */
public final class BudgetExceededException extends RuntimeException {
    private final String tier;
    private final Pool pool;
    private final long requested;
    private final long available;
    private final long pinned;

    public BudgetExceededException(String tier, Pool pool, long requested, long available, long pinned,
                                   String limitDescription) {
        super(tier + " budget exceeded: pool " + pool + " requested " + Sizes.format(requested) + " (" + requested
                + " B), available " + Sizes.format(available) + " (" + available + " B), pinned "
                + Sizes.format(pinned) + " (" + pinned + " B); " + limitDescription);
        this.tier = tier;
        this.pool = pool;
        this.requested = requested;
        this.available = available;
        this.pinned = pinned;
    }

    public String tier() {
        return tier;
    }

    public Pool pool() {
        return pool;
    }

    public long requested() {
        return requested;
    }

    public long available() {
        return available;
    }

    public long pinned() {
        return pinned;
    }
}
