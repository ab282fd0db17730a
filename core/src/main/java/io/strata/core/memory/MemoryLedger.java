package io.strata.core.memory;

import io.strata.core.util.Sizes;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The hard memory bound of one tier (device, host, disk cache). Memory is reserved here before it is allocated
 * and released after it is freed; the ledger never grants a byte beyond {@code budget - reserve} in total, nor
 * beyond a pool's own limit. A request that does not fit first asks the registered {@link Evictor}s to give
 * memory back (its own pool's first) and fails with {@link BudgetExceededException} if it still cannot fit.
 * It never blocks waiting for memory, so it cannot hang.
 *
 * <p>Thread-safe. Evictors are called without the ledger lock held (they release reservations themselves).
 */
public final class MemoryLedger {
    /** Rounds of "evict then retry" before giving up although evictors keep freeing (others keep taking). */
    private static final int MAX_EVICTION_ROUNDS = 1_000;

    private final String tier;
    private final long budget;
    private final long reserve;
    private final Map<Pool, Long> poolLimits = new EnumMap<>(Pool.class);
    private final Map<Pool, List<Evictor>> evictors = new EnumMap<>(Pool.class);

    // guarded by this
    private long used;
    private long highWater;
    private final long[] poolUsed = new long[Pool.values().length];
    private final long[] poolHighWater = new long[Pool.values().length];

    /**
     * @param tier    a name for messages and telemetry, e.g. {@code host}
     * @param budget  the tier's total bytes
     * @param reserve bytes inside the budget that are never handed out (headroom for everything else)
     */
    public MemoryLedger(String tier, long budget, long reserve) {
        if (budget < 0 || reserve < 0) {
            throw new IllegalArgumentException(tier + " ledger: negative budget or reserve: " + budget + ", " + reserve);
        }
        if (reserve > budget) {
            throw new IllegalArgumentException(tier + " ledger: reserve " + Sizes.format(reserve)
                    + " is larger than the budget " + Sizes.format(budget));
        }
        this.tier = tier;
        this.budget = budget;
        this.reserve = reserve;
        for (Pool p : Pool.values()) {
            evictors.put(p, new CopyOnWriteArrayList<>());
        }
    }

    public MemoryLedger(String tier, long budget) {
        this(tier, budget, 0);
    }

    /** Caps one pool below the usable budget (default: no cap beyond the tier's). */
    public synchronized MemoryLedger limitPool(Pool pool, long limit) {
        if (limit < 0) {
            throw new IllegalArgumentException(tier + " ledger: negative limit for pool " + pool);
        }
        poolLimits.put(pool, limit);
        return this;
    }

    /** Registers something that can give memory of {@code pool} back when a reservation does not fit. */
    public void registerEvictor(Pool pool, Evictor evictor) {
        evictors.get(pool).add(evictor);
    }

    public void unregisterEvictor(Pool pool, Evictor evictor) {
        evictors.get(pool).remove(evictor);
    }

    /**
     * Reserves {@code bytes} for {@code pool}, evicting unpinned entries if needed.
     *
     * @throws BudgetExceededException when it cannot fit even after eviction
     */
    public Reservation reserve(Pool pool, long bytes) {
        checkRequest(pool, bytes);
        for (int round = 0; ; round++) {
            long shortfall;
            boolean poolBound;
            synchronized (this) {
                long freeTotal = usable() - used;
                long freePool = poolLimit(pool) - poolUsed[pool.ordinal()];
                if (bytes <= freeTotal && bytes <= freePool) {
                    grant(pool, bytes);
                    return new Reservation(this, pool, bytes);
                }
                poolBound = freePool < freeTotal;
                shortfall = bytes - Math.min(freeTotal, freePool);
            }
            if (bytes > poolLimit(pool) || bytes > usable() || round >= MAX_EVICTION_ROUNDS
                    || evict(pool, shortfall, poolBound) == 0) {
                throw exceeded(pool, bytes);
            }
        }
    }

    /** Reserves only if it fits now, without evicting anything. */
    public synchronized Reservation tryReserve(Pool pool, long bytes) {
        checkRequest(pool, bytes);
        if (bytes <= usable() - used && bytes <= poolLimit(pool) - poolUsed[pool.ordinal()]) {
            grant(pool, bytes);
            return new Reservation(this, pool, bytes);
        }
        return null;
    }

    private void checkRequest(Pool pool, long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException(tier + " ledger: negative reservation " + bytes + " for " + pool);
        }
    }

    private long evict(Pool pool, long shortfall, boolean poolBound) {
        List<Evictor> order = new ArrayList<>(evictors.get(pool));
        if (!poolBound) {
            for (Pool other : Pool.values()) {
                if (other != pool) {
                    order.addAll(evictors.get(other));
                }
            }
        }
        long freed = 0;
        for (Evictor e : order) {
            if (freed >= shortfall) {
                break;
            }
            freed += e.evict(shortfall - freed);
        }
        return freed;
    }

    private BudgetExceededException exceeded(Pool pool, long bytes) {
        long available;
        synchronized (this) {
            available = Math.max(0, Math.min(usable() - used, poolLimit(pool) - poolUsed[pool.ordinal()]));
        }
        long pinned = 0;
        for (Evictor e : evictors.get(pool)) {
            pinned += e.pinnedBytes();
        }
        String limit = "budget " + Sizes.format(budget) + " minus reserve " + Sizes.format(reserve)
                + (poolLimits.containsKey(pool) ? ", pool limit " + Sizes.format(poolLimits.get(pool)) : "");
        return new BudgetExceededException(tier, pool, bytes, available, pinned, limit);
    }

    private void grant(Pool pool, long bytes) {
        used += bytes;
        highWater = Math.max(highWater, used);
        int i = pool.ordinal();
        poolUsed[i] += bytes;
        poolHighWater[i] = Math.max(poolHighWater[i], poolUsed[i]);
    }

    synchronized void release(Pool pool, long bytes) {
        int i = pool.ordinal();
        if (bytes > poolUsed[i]) {
            throw new IllegalStateException(tier + " ledger: releasing " + bytes + " B of " + pool + " but only "
                    + poolUsed[i] + " B are reserved");
        }
        used -= bytes;
        poolUsed[i] -= bytes;
    }

    public String tier() {
        return tier;
    }

    public long budget() {
        return budget;
    }

    public long reserve() {
        return reserve;
    }

    /** What may be handed out in total: budget minus reserve. */
    public long usable() {
        return budget - reserve;
    }

    public synchronized long poolLimit(Pool pool) {
        return Math.min(usable(), poolLimits.getOrDefault(pool, Long.MAX_VALUE));
    }

    public synchronized long used() {
        return used;
    }

    public synchronized long used(Pool pool) {
        return poolUsed[pool.ordinal()];
    }

    public synchronized long available() {
        return usable() - used;
    }

    /** The most bytes ever reserved at once; never above {@link #usable()}. */
    public synchronized long highWater() {
        return highWater;
    }

    public synchronized long highWater(Pool pool) {
        return poolHighWater[pool.ordinal()];
    }

    public synchronized LedgerSnapshot snapshot() {
        Map<Pool, Long> pools = new EnumMap<>(Pool.class);
        for (Pool p : Pool.values()) {
            pools.put(p, poolUsed[p.ordinal()]);
        }
        return new LedgerSnapshot(tier, budget, reserve, used, highWater, pools);
    }

    @Override
    public String toString() {
        LedgerSnapshot s = snapshot();
        return tier + " ledger: " + Sizes.format(s.used()) + " of " + Sizes.format(usable()) + " used (high water "
                + Sizes.format(s.highWater()) + ")";
    }
}
