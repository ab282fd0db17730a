package io.strata.core.memory;

import java.util.Map;

/** A consistent copy of a ledger's figures. */
public record LedgerSnapshot(String tier, long budget, long reserve, long used, long highWater,
                             Map<Pool, Long> poolUsed) {
    public LedgerSnapshot {
        poolUsed = Map.copyOf(poolUsed);
    }
}
