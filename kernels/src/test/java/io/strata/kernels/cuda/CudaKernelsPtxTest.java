package io.strata.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Checks the shipped PTX without a GPU: present, well-formed header, the kernels the Java side launches. */
class CudaKernelsPtxTest {

    private static List<String> all(Pattern p, String text) {
        List<String> found = new ArrayList<>();
        Matcher m = p.matcher(text);
        while (m.find()) {
            found.add(m.group(1));
        }
        return found;
    }

    @Test
    void thePtxDeclaresATargetAndExactlyTheEntryPointsTheJavaSideLaunches() {
        String ptx = CudaKernels.ptxText();
        assertFalse(ptx.isBlank());
        assertTrue(Pattern.compile("(?m)^\\.target sm_\\d+$").matcher(ptx).find(), "no .target line");
        assertTrue(Pattern.compile("(?m)^\\.address_size 64$").matcher(ptx).find(), "not 64-bit PTX");
        List<String> entries = all(Pattern.compile("\\.visible \\.entry (\\w+)\\("), ptx);
        assertEquals(List.copyOf(CudaKernels.ENTRY_POINTS).stream().sorted().toList(),
                entries.stream().sorted().toList());
        // cuLaunchKernel's parameter arrays assume this arity: pointers then two ints (rows, cols).
        for (String entry : entries) {
            int params = all(Pattern.compile("\\.param \\.(u64|u32) " + entry + "_param_\\d+"), ptx).size();
            assertEquals(entry.startsWith("swiglu") ? 6 : 5, params, entry);
        }
    }

    @Test
    void thePtxIsoVersionIsOneOldDriversCanJit() {
        // build-ptx.sh lowers nvcc 13's ".version 9.0" stamp so that pre-CUDA-13 drivers load the module.
        Matcher m = Pattern.compile("(?m)^\\.version (\\d+)\\.(\\d+)$").matcher(CudaKernels.ptxText());
        assertTrue(m.find(), "no .version line");
        assertTrue(Integer.parseInt(m.group(1)) <= 7, "PTX ISA " + m.group(1) + "." + m.group(2));
    }

    @Test
    void theCudaSourceDefinesTheSameKernels() throws IOException {
        Path source = Path.of("src/main/cuda/expert_kernels.cu");
        String cu = Files.readString(source);
        List<String> kernels = all(Pattern.compile("extern \"C\" __global__ void (\\w+)\\("), cu);
        assertEquals(CudaKernels.ENTRY_POINTS.stream().sorted().toList(), kernels.stream().sorted().toList());
    }
}
