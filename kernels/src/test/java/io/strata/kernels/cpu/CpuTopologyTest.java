package io.strata.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CpuTopologyTest {
    /** cpuinfo of two sockets x two cores x two hyperthreads: 8 processors, 4 physical cores. */
    private static List<String> hyperthreaded() {
        List<String> lines = new ArrayList<>();
        int processor = 0;
        for (int thread = 0; thread < 2; thread++) {
            for (int socket = 0; socket < 2; socket++) {
                for (int core = 0; core < 2; core++) {
                    lines.add("processor\t: " + processor++);
                    lines.add("model name\t: Some CPU @ 3.0GHz");
                    lines.add("physical id\t: " + socket);
                    lines.add("siblings\t: 4");
                    lines.add("core id\t\t: " + core);
                    lines.add("cpu cores\t: 2");
                    lines.add("");
                }
            }
        }
        return lines;
    }

    @Test
    void hyperthreadsAreNotCores(@TempDir Path dir) throws Exception {
        assertEquals(4, CpuTopology.countCores(hyperthreaded()));
        Path f = dir.resolve("cpuinfo");
        Files.write(f, hyperthreaded());
        assertEquals(4, CpuTopology.detect(f));
    }

    @Test
    void withoutCoreIdsEveryProcessorCounts(@TempDir Path dir) throws Exception {
        List<String> arm = List.of("processor\t: 0", "BogoMIPS\t: 50.00", "", "processor\t: 1", "BogoMIPS\t: 50.00");
        assertEquals(0, CpuTopology.countCores(arm));
        Path f = dir.resolve("cpuinfo");
        Files.write(f, arm);
        assertEquals(Runtime.getRuntime().availableProcessors(), CpuTopology.detect(f));
        assertEquals(Runtime.getRuntime().availableProcessors(), CpuTopology.detect(dir.resolve("missing")));
    }

    @Test
    void neverMoreThanTheProcessorsThisProcessMayUse() {
        int cores = CpuTopology.physicalCores();
        assertTrue(cores >= 1 && cores <= Runtime.getRuntime().availableProcessors(), "cores " + cores);
    }
}
