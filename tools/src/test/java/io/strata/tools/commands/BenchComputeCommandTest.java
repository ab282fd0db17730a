package io.strata.tools.commands;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.tools.StrataCli;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** bench compute on a tiny model: a row per dtype and thread count, a quantised model included. */
class BenchComputeCommandTest {
    @TempDir
    Path dir;

    /** Output of {@code bench compute args --dir <temp>}, which must succeed. */
    private String compute(String... args) {
        CommandLine cl = StrataCli.commandLine();
        StringWriter out = new StringWriter();
        cl.setOut(new PrintWriter(out));
        List<String> all = new ArrayList<>(List.of("bench", "compute"));
        all.addAll(List.of(args));
        all.addAll(List.of("--dir", dir.toString()));
        int rc = cl.execute(all.toArray(String[]::new));
        String text = out.toString();
        assertEquals(0, rc, text);
        return text;
    }

    @Test
    void onTwoThreadsSaysHowDecodesParallelLoopsWent() throws Exception {
        // matrices of 512 x 1024 and more are split over the team (ParallelMatVec.MIN_ELEMENTS)
        String text = compute("--dtypes", "BF16", "--threads", "2", "--hidden", "512",
                "--ffn", "1024", "--layers", "1", "--experts", "4", "--top-k", "2", "--heads", "4", "--kv-heads", "1",
                "--head-dim", "128", "--vocab", "1024", "--rounds", "1", "--warmup", "0", "--time", "0.05",
                "--prompt", "4");
        var m = java.util.regex.Pattern.compile("decode BF16 2T (?:java|native) float: (\\d+) team loops per token;"
                + " the calling thread ran (\\d\\.\\d\\d) of their items \\(0\\.50 if shared evenly\\);"
                + " (\\d+\\.\\d) % opened with a worker parked").matcher(text);
        assertTrue(m.find(), text);
        // per token: the expert gate/up (one loop each, 1024 rows), the downs and the lm_head (512 and 1024 rows)
        assertTrue(Integer.parseInt(m.group(1)) >= 3, text);
        double share = Double.parseDouble(m.group(2));
        assertTrue(share >= 0 && share <= 1, text);
        assertTrue(Double.parseDouble(m.group(3)) <= 100, text);
    }

    @Test
    void reportsDecodeAgainstTheReadBoundForPlainAndQuantisedWeights() throws Exception {
        String text = compute("--dtypes", "BF16,Q8_0,Q4_K", "--threads", "1", "--hidden", "256",
                "--ffn", "256", "--layers", "1", "--experts", "4", "--top-k", "2", "--heads", "2", "--kv-heads", "1",
                "--head-dim", "128", "--vocab", "512", "--rounds", "1", "--warmup", "0", "--time", "0.05",
                "--prompt", "4");
        for (String t : new String[] {"BF16", "Q8_0", "Q4_K"}) {
            assertEquals(1, text.lines().filter(l -> l.startsWith(t + " ") && l.matches(".*\\d (B|KiB|MiB|GiB) .*")).count(),
                    text);
        }
        // Q8_0 stores 34 bytes per 32 values, Q4_K 144 per 256: fewer bytes per token than BF16's 2 per value
        assertTrue(bytesPerToken(text, "Q4_K") < bytesPerToken(text, "Q8_0"), text);
        assertTrue(bytesPerToken(text, "Q8_0") < bytesPerToken(text, "BF16"), text);
        // multiply-adds per token of this shape: lm_head 512x256, q 256x256, k and v 128x256, o 256x256, router
        // 4x256, two experts of three 256x256 matrices
        long macs = 512 * 256 + 256 * 256 + 2 * 128 * 256 + 256 * 256 + 4 * 256 + 2 * 3 * 256 * 256;
        assertTrue(text.contains("BF16 " + macs + ", Q8_0 " + macs + ", Q4_K " + macs + " multiply-adds per token"),
                text);
        for (String t : new String[] {"BF16", "Q8_0", "Q4_K"}) {
            String row = text.lines().filter(l -> l.startsWith(t + " ")).findFirst().orElseThrow();
            String[] f = row.trim().split(" +");
            if (f[f.length - 1].equals("-")) { // only int8 on a CPU without VNNI
                assertTrue(!t.equals("BF16") && io.strata.kernels.cpu.ComputePeak.unavailable(
                        io.strata.kernels.cpu.ComputePeak.Kind.INT8).isPresent(), row);
                continue;
            }
            // the prompt, measured in the same round, cannot run faster than the machine multiplies
            double ofPeak = Double.parseDouble(f[f.length - 1]);
            double peakTokens = Double.parseDouble(f[f.length - 2]);
            assertTrue(peakTokens > 0 && ofPeak < 1, row);
            double prefill = Double.parseDouble(f[f.length - 5]); // prefill median, [min..max], pre/dec, peak, of peak
            assertEquals(prefill / peakTokens, ofPeak, 0.0011, row); // one round: the ratio of the medians
        }
        try (var left = Files.list(dir)) {
            assertEquals(0, left.count(), "temporary checkpoints are deleted");
        }
    }

    @Test
    void measuresEachKernelInItsOwnRow() {
        boolean nat = io.strata.kernels.cpu.CpuKernels.nativeUnavailable().isEmpty();
        String text = compute("--dtypes", "BF16", "--threads", "1", "--kernels",
                nat ? "java,native" : "java", "--hidden", "256", "--ffn", "256", "--layers", "1", "--experts", "4",
                "--top-k", "2", "--heads", "2", "--kv-heads", "1", "--head-dim", "128", "--vocab", "512", "--rounds",
                "1", "--warmup", "0", "--time", "0.05", "--prompt", "4");
        assertTrue(text.contains("kernels: "), text);
        assertEquals(1, text.lines().filter(l -> l.matches("BF16 +1 java .*")).count(), text);
        assertEquals(nat ? 1 : 0, text.lines().filter(l -> l.matches("BF16 +1 native .*")).count(), text);
    }

    @Test
    void measuresBothQuantisedArithmeticsAndTheQ4KMMix() {
        String text = compute("--dtypes", "Q4_K,Q4_K_M", "--arithmetic", "int8,float", "--threads",
                "1", "--hidden", "256", "--ffn", "256", "--layers", "2", "--experts", "4", "--top-k", "2", "--heads",
                "2", "--kv-heads", "1", "--head-dim", "128", "--vocab", "512", "--rounds", "1", "--warmup", "0",
                "--time", "0.05", "--prompt", "4");
        for (String t : new String[] {"Q4_K", "Q4_K_M"}) {
            for (String a : new String[] {"int8", "float"}) {
                assertEquals(1, text.lines().filter(l -> l.matches(t + " +1 \\w+ +" + a + " .*")).count(), text);
            }
        }
        // the mix promotes attn_k/v to Q8_0, attn_output to Q5_K, lm_head and some ffn_down to Q6_K
        assertTrue(bytesPerToken(text, "Q4_K_M") > bytesPerToken(text, "Q4_K"), text);
    }

    @Test
    void unknownArithmeticIsAUsageError() {
        CommandLine cl = StrataCli.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        assertEquals(2, cl.execute("bench", "compute", "--dtypes", "Q8_0", "--arithmetic", "int4"));
        assertTrue(err.toString().contains("--arithmetic: 'int4' is not int8 or float"), err.toString());
    }

    @Test
    void unknownKernelIsAUsageError() {
        CommandLine cl = StrataCli.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        assertEquals(2, cl.execute("bench", "compute", "--kernels", "fortran"));
        assertTrue(err.toString().contains("--kernels: 'fortran' is not java or native"), err.toString());
    }

    @Test
    void unknownDtypeIsAUsageError() {
        CommandLine cl = StrataCli.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        assertEquals(2, cl.execute("bench", "compute", "--dtypes", "Q9_9"));
        assertTrue(err.toString().contains("--dtypes: 'Q9_9' is not one of"), err.toString());
    }

    private static double bytesPerToken(String text, String dtype) {
        String row = text.lines().filter(l -> l.startsWith(dtype + " ")).findFirst().orElseThrow();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(" ([0-9.]+) (B|KiB|MiB|GiB) ").matcher(row);
        assertTrue(m.find(), row);
        int shift = switch (m.group(2)) {
            case "KiB" -> 10;
            case "MiB" -> 20;
            case "GiB" -> 30;
            default -> 0;
        };
        return Double.parseDouble(m.group(1)) * (1L << shift);
    }
}
