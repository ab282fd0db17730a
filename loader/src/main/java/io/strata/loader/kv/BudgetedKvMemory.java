package io.strata.loader.kv;

import io.strata.core.model.Tier;
import java.util.EnumMap;
import java.util.Map;

/** A stand-alone {@link KvMemory}: a fixed byte budget per tier, used when no runtime ledger is supplied. */
public final class BudgetedKvMemory implements KvMemory {
    private final Map<Tier, Long> budgets = new EnumMap<>(Tier.class);
    private final Map<Tier, Long> reserved = new EnumMap<>(Tier.class);

    public BudgetedKvMemory(long deviceBudget, long hostBudget) {
        budgets.put(Tier.DEVICE, deviceBudget);
        budgets.put(Tier.HOST, hostBudget);
    }

    @Override
    public synchronized boolean tryReserve(Tier tier, long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("negative reservation " + bytes);
        }
        long used = reserved.getOrDefault(tier, 0L);
        if (bytes > budget(tier) - used) {
            return false;
        }
        reserved.put(tier, used + bytes);
        return true;
    }

    @Override
    public synchronized void release(Tier tier, long bytes) {
        long used = reserved.getOrDefault(tier, 0L);
        if (bytes > used) {
            throw new IllegalStateException("releasing " + bytes + " bytes of " + tier + " but only " + used + " reserved");
        }
        reserved.put(tier, used - bytes);
    }

    @Override
    public synchronized long reserved(Tier tier) {
        return reserved.getOrDefault(tier, 0L);
    }

    @Override
    public long budget(Tier tier) {
        return budgets.getOrDefault(tier, 0L);
    }
}
