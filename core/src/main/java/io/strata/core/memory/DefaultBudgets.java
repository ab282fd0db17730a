package io.strata.core.memory;

import java.lang.management.ManagementFactory;

/**
 * Budget defaults: the host tier gets half of physical RAM, of which a 2 GiB reserve is never handed out, so the
 * rest of the machine (JVM heap, OS, other processes) keeps room to run.
 */
public final class DefaultBudgets {
    public static final long HOST_RESERVE = 2L << 30;

    private DefaultBudgets() {
    }

    public static long physicalMemory() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getTotalMemorySize();
        }
        return Runtime.getRuntime().maxMemory();
    }

    /** 50 % of physical RAM. */
    public static long hostBudget() {
        return physicalMemory() / 2;
    }

    /** The 2 GiB reserve, or the whole budget on a machine too small for it. */
    public static long hostReserve(long budget) {
        return Math.min(HOST_RESERVE, budget);
    }

    /** The default host ledger: 50 % of RAM with a 2 GiB reserve. */
    public static MemoryLedger hostLedger() {
        long budget = hostBudget();
        return new MemoryLedger("host", budget, hostReserve(budget));
    }
}
