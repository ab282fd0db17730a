package io.strata.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Encodes 1 MB of varied text (words, numbers, code, CJK, emoji, whitespace runs; seeded) with each real
 * tokenizer, checks it decodes back to the same text, and prints the encode time (thread CPU time, which the
 * machine's load disturbs less than wall time). The bound only catches a pathological slowdown (quadratic
 * merging, regex backtracking); the figure itself is in the report.
 */
class EncodeSpeedTest {
    static String megabyte() {
        String[] words = {"the", "model", "pages", "experts", "through", "device", "memory", "and", "disk", "cache",
                "Mixture-of-Experts", "tokenizer", "runtime", "weights", "peer", "mesh", "is", "a", "of", "to", "in",
                "for", "with", "larger", "than", "fits", "Strata", "Java", "GPU", "quantised", "layer", "router"};
        String[] other = {"日本語", "中文", "テキスト", "🙂", "👍🏽", "Привет", "naïve", "café", "x[i] * w[i];", "return a + b;",
                "https://example.com/a?b=1", "{\"k\": 1}", "\n\n", "\t", "    ", "—", "«»", "1e-5", "3.14159"};
        Random r = new Random(7);
        StringBuilder b = new StringBuilder(1_000_100);
        while (b.length() < 1_000_000) {
            int k = r.nextInt(10);
            if (k < 6) {
                b.append(' ').append(words[r.nextInt(words.length)]);
            } else if (k < 8) {
                b.append(' ').append(r.nextInt(100_000));
            } else {
                b.append(other[r.nextInt(other.length)]);
            }
            if (r.nextInt(12) == 0) {
                b.append(".\n");
            }
        }
        return b.toString();
    }

    @Test
    void oneMegabyteEncodesQuickly() {
        String text = megabyte();
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        for (String name : ReferenceCasesTest.TOKENIZERS) {
            Tokenizer t = ReferenceCasesTest.tokenizer(name);
            int[] ids = t.encode(text, false); // warm-up, and the round trip
            String back = t.decode(ids);
            assertEquals(text, back, name + " round trip");
            long best = Long.MAX_VALUE;
            for (int round = 0; round < 3; round++) {
                long c0 = mx.getCurrentThreadCpuTime();
                t.encode(text, false);
                best = Math.min(best, mx.getCurrentThreadCpuTime() - c0);
            }
            System.out.printf("strata-text: %s encodes 1 MB (%d ids) in %.0f ms CPU (best of 3, warm)%n", name,
                    ids.length, best / 1e6);
            assertTrue(best < 5_000_000_000L, name + " took " + best / 1e6 + " ms for 1 MB");
        }
    }
}
