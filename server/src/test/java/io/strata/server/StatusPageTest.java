package io.strata.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The status page in headless Chromium (server/src/test/js/status-page.mjs): after a few requests it shows the
 * plots and the same numbers as /metrics; the screenshot is left at server/target/status-page.png.
 */
class StatusPageTest {
    @Test
    void statusPageShowsWhatMetricsSay(@TempDir Path dir) throws Exception {
        NodeScripts.requireNode();
        Path chromium = Path.of("/usr/bin/chromium");
        assumeTrue(Files.isExecutable(chromium), "no /usr/bin/chromium: install the Debian package chromium"
                + " (.ci/run does) for the browser test");
        try (ServerFixture f = new ServerFixture(dir, 2)) {
            for (String prompt : new String[]{"Once upon a time", "In a galaxy far away", "The quick brown fox"}) {
                assertEquals(200, f.post("/v1/completions", "{\"prompt\":\"" + prompt + "\",\"max_tokens\":12,"
                        + "\"temperature\":0}").statusCode());
            }
            Path shot = Path.of("target/status-page.png").toAbsolutePath();
            Files.deleteIfExists(shot);
            NodeScripts.Run r = NodeScripts.node("status-page.mjs", Map.of("STRATA_URL", f.base,
                    "CHROMIUM", chromium.toString(), "SCREENSHOT", shot.toString(),
                    "HEAT_CELLS", String.valueOf(f.engine.layers() * f.engine.experts())), 120);
            assertEquals(0, r.code(), r.output());
            assertTrue(Files.size(shot) > 10_000, "screenshot too small: " + Files.size(shot));
        }
    }
}
