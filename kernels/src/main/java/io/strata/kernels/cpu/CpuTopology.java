package io.strata.kernels.cpu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * How many compute threads this machine can use. Decode streams weights: a second hyperthread on a core adds no
 * memory bandwidth and halves each sibling's share of the core's load ports, so the default is one compute
 * thread per physical core, never more than the processors this process may run on (cgroup quota, affinity).
 * Physical cores are counted from {@code /proc/cpuinfo} (distinct physical id / core id pairs); where that file
 * is missing or says nothing about cores, every available processor counts as a core.
 */
public final class CpuTopology {
    private static final int PHYSICAL = detect(Path.of("/proc/cpuinfo"));

    private CpuTopology() {
    }

    /** Physical cores of the machine, at most {@link Runtime#availableProcessors()}. */
    public static int physicalCores() {
        return Math.max(1, Math.min(PHYSICAL, Runtime.getRuntime().availableProcessors()));
    }

    static int detect(Path cpuinfo) {
        try {
            int cores = countCores(Files.readAllLines(cpuinfo));
            return cores > 0 ? cores : Runtime.getRuntime().availableProcessors();
        } catch (IOException | RuntimeException e) {
            return Runtime.getRuntime().availableProcessors();
        }
    }

    /** Distinct (physical id, core id) pairs in cpuinfo lines; 0 when no processor names its core. */
    static int countCores(List<String> lines) {
        Set<String> cores = new HashSet<>();
        String physical = "0";
        String core = null;
        for (String raw : lines) {
            String line = raw.strip();
            if (line.isEmpty()) {
                if (core != null) {
                    cores.add(physical + "/" + core);
                }
                physical = "0";
                core = null;
                continue;
            }
            int colon = line.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String key = line.substring(0, colon).strip();
            String value = line.substring(colon + 1).strip();
            if (key.equals("physical id")) {
                physical = value;
            } else if (key.equals("core id")) {
                core = value;
            }
        }
        if (core != null) {
            cores.add(physical + "/" + core);
        }
        return cores.size();
    }
}
