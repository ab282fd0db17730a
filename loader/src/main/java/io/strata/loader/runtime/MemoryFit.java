package io.strata.loader.runtime;

import io.strata.core.util.Sizes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Automatic fit: the host budget a run takes when the user names none, from the memory that is free for it now.
 * Why: a fixed share of physical RAM ignores what other processes hold and, worse, a container's memory limit,
 * so a run inside a 1 GiB cgroup was handed more than the cgroup allows and was OOM-killed. Free memory is the
 * smaller of {@code MemAvailable} ({@code /proc/meminfo}) and the tightest cgroup limit above this process
 * (v2 {@code memory.max}, v1 {@code memory.limit_in_bytes}) minus the cgroup's anonymous memory (its page cache
 * is reclaimable, so it counts as free). The budget is that minus a reserve, never all of it: the heap the JVM
 * may still grow into ({@code -Xmx} minus what is committed), {@link #NON_HEAP} for the JVM's own native memory
 * (code cache, metaspace, thread stacks, direct buffers) and {@link #SLACK_PERCENT} % of what is left for the
 * kernel and the page cache that reads pass through.
 */
public record MemoryFit(long memAvailable, long cgroupLimit, long cgroupAnon, long heapHeadroom, long reserve,
                        long hostBudget) {
    public static final long NON_HEAP = 192L << 20;
    public static final int SLACK_PERCENT = 10;
    /** The least budget handed out, even on a machine with less free: a run with less cannot hold a layer. */
    public static final long MIN_BUDGET = 64L << 20;

    /** What this process may take now. */
    public static MemoryFit measure() {
        Runtime rt = Runtime.getRuntime();
        long heapHeadroom = rt.maxMemory() == Long.MAX_VALUE ? 0 : Math.max(0, rt.maxMemory() - rt.totalMemory());
        return measure(Path.of("/"), heapHeadroom);
    }

    /** As {@link #measure()}, reading {@code proc/} and {@code sys/fs/cgroup/} under {@code root} (tests). */
    public static MemoryFit measure(Path root, long heapHeadroom) {
        long avail = memAvailable(root).orElse(Long.MAX_VALUE);
        long limit = Long.MAX_VALUE;
        long anon = 0;
        for (String line : lines(root.resolve("proc/self/cgroup"))) {
            String[] f = line.split(":", 3);
            if (f.length != 3) {
                continue;
            }
            String rel = f[2].startsWith("/") ? f[2].substring(1) : f[2];
            if (f[0].equals("0") && f[1].isEmpty()) { // v2: the unified hierarchy (at the root or under unified/)
                for (String mount : new String[]{"sys/fs/cgroup", "sys/fs/cgroup/unified"}) {
                    Path d = root.resolve(mount).resolve(rel);
                    long l = number(d.resolve("memory.max"));
                    if (l > 0 && l < limit) {
                        limit = l;
                        anon = stat(d.resolve("memory.stat"), "anon");
                    }
                }
            } else if (List.of(f[1].split(",")).contains("memory")) { // v1
                Path d = root.resolve("sys/fs/cgroup/memory").resolve(rel);
                long l = number(d.resolve("memory.limit_in_bytes"));
                if (l > 0 && l < limit && l < (1L << 62)) {
                    limit = l;
                    anon = stat(d.resolve("memory.stat"), "total_rss");
                }
            }
        }
        long free = Math.min(avail, limit == Long.MAX_VALUE ? Long.MAX_VALUE : Math.max(0, limit - anon));
        if (free == Long.MAX_VALUE) {
            free = 1L << 30; // nothing readable: a guess that runs anywhere
        }
        long afterJvm = Math.max(0, free - heapHeadroom - NON_HEAP);
        long reserve = free - afterJvm + afterJvm * SLACK_PERCENT / 100;
        long budget = Math.max(MIN_BUDGET, free - reserve);
        return new MemoryFit(avail, limit, anon, heapHeadroom, Math.min(reserve, free), budget);
    }

    /** One line for the user: what was chosen and from what. */
    public String describe() {
        StringBuilder s = new StringBuilder("host budget ").append(Sizes.format(hostBudget)).append(" (fit: ");
        s.append(memAvailable == Long.MAX_VALUE ? "MemAvailable unknown" : "MemAvailable " + Sizes.format(memAvailable));
        if (cgroupLimit != Long.MAX_VALUE) {
            s.append(String.format(Locale.ROOT, ", cgroup limit %s with %s anonymous in use", Sizes.format(cgroupLimit),
                    Sizes.format(cgroupAnon)));
        }
        s.append(", reserve ").append(Sizes.format(reserve)).append(" = heap headroom ")
                .append(Sizes.format(heapHeadroom)).append(" + JVM native ").append(Sizes.format(NON_HEAP))
                .append(" + ").append(SLACK_PERCENT).append(" % slack; --host-budget overrides)");
        return s.toString();
    }

    private static Optional<Long> memAvailable(Path root) {
        for (String line : lines(root.resolve("proc/meminfo"))) {
            if (line.startsWith("MemAvailable:")) {
                String[] f = line.trim().split("\\s+");
                try {
                    return Optional.of(Long.parseLong(f[1]) * 1024);
                } catch (RuntimeException e) {
                    return Optional.empty();
                }
            }
        }
        return Optional.empty();
    }

    private static long number(Path p) {
        List<String> l = lines(p);
        if (l.isEmpty()) {
            return -1;
        }
        String v = l.getFirst().trim();
        if (v.equals("max")) {
            return -1;
        }
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static long stat(Path p, String key) {
        for (String line : lines(p)) {
            String[] f = line.trim().split("\\s+");
            if (f.length == 2 && f[0].equals(key)) {
                try {
                    return Long.parseLong(f[1]);
                } catch (NumberFormatException e) {
                    return 0;
                }
            }
        }
        return 0;
    }

    private static List<String> lines(Path p) {
        try {
            return Files.readAllLines(p);
        } catch (IOException | RuntimeException e) {
            return List.of();
        }
    }
}
