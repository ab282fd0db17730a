package io.strata.loader.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MemoryFitTest {
    @TempDir
    Path root;

    private void write(String rel, String text) throws IOException {
        Path p = root.resolve(rel);
        Files.createDirectories(p.getParent());
        Files.writeString(p, text);
    }

    @Test
    void withoutACgroupLimitTheBudgetIsMemAvailableLessTheReserve() throws IOException {
        write("proc/meminfo", "MemTotal:       24683652 kB\nMemAvailable:    8388608 kB\n");
        write("proc/self/cgroup", "0::/\n");
        MemoryFit f = MemoryFit.measure(root, 256L << 20);
        long free = 8L << 30;
        long afterJvm = free - (256L << 20) - MemoryFit.NON_HEAP;
        assertEquals(afterJvm - afterJvm * MemoryFit.SLACK_PERCENT / 100, f.hostBudget());
        assertEquals(free, f.hostBudget() + f.reserve());
        assertEquals(Long.MAX_VALUE, f.cgroupLimit());
        assertTrue(f.describe().contains("MemAvailable 8"), f.describe());
    }

    @Test
    void aCgroupV2LimitBelowMemAvailableWinsAndItsPageCacheCountsAsFree() throws IOException {
        write("proc/meminfo", "MemAvailable:   16777216 kB\n");
        write("proc/self/cgroup", "0::/bench/run1\n");
        write("sys/fs/cgroup/bench/run1/memory.max", "1073741824\n");
        write("sys/fs/cgroup/bench/run1/memory.stat", "anon 104857600\nfile 524288000\n");
        MemoryFit f = MemoryFit.measure(root, 0);
        assertEquals(1L << 30, f.cgroupLimit());
        assertEquals(100L << 20, f.cgroupAnon());
        long afterJvm = (1L << 30) - (100L << 20) - MemoryFit.NON_HEAP;
        assertEquals(afterJvm - afterJvm * MemoryFit.SLACK_PERCENT / 100, f.hostBudget());
        assertTrue(f.describe().contains("cgroup limit 1"), f.describe());
    }

    @Test
    void aCgroupV1LimitIsReadAndAnUnlimitedOneIgnored() throws IOException {
        write("proc/meminfo", "MemAvailable:   16777216 kB\n");
        write("proc/self/cgroup", "4:memory:/a\n3:cpuset:/\n");
        write("sys/fs/cgroup/memory/a/memory.limit_in_bytes", "2147483648\n");
        write("sys/fs/cgroup/memory/a/memory.stat", "cache 1000\nrss 5\ntotal_rss 0\n");
        assertEquals(2L << 30, MemoryFit.measure(root, 0).cgroupLimit());
        write("sys/fs/cgroup/memory/a/memory.limit_in_bytes", "9223372036854771712\n");
        assertEquals(Long.MAX_VALUE, MemoryFit.measure(root, 0).cgroupLimit());
    }

    @Test
    void tooLittleFreeStillGivesTheMinimumAndNeverMoreThanFreeAsReserve() throws IOException {
        write("proc/meminfo", "MemAvailable:     102400 kB\n");
        write("proc/self/cgroup", "0::/\n");
        MemoryFit f = MemoryFit.measure(root, 1L << 30);
        assertEquals(MemoryFit.MIN_BUDGET, f.hostBudget());
        assertTrue(f.reserve() <= 100L << 20);
    }
}
