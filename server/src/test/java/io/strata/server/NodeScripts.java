package io.strata.server;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs the JavaScript tests of server/src/test/js with node (npm ci there first when node_modules is missing). */
final class NodeScripts {
    static final Path DIR = Path.of("src/test/js").toAbsolutePath();

    record Run(int code, String output) {
    }

    private NodeScripts() {
    }

    static boolean onPath(String exe) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, exe))) {
                return true;
            }
        }
        return false;
    }

    /** Skips the test when node is missing; installs the locked npm packages when they are not there yet. */
    static void requireNode() throws Exception {
        assumeTrue(onPath("node"), "node is not on PATH: the JavaScript end-to-end tests need Node.js (.ci/run"
                + " installs nothing for it; Node.js comes with the machine)");
        if (!Files.isDirectory(DIR.resolve("node_modules/openai"))
                || !Files.isDirectory(DIR.resolve("node_modules/playwright-core"))) {
            Run r = run(List.of("npm", "ci", "--no-audit", "--no-fund"), Map.of(), 300);
            if (r.code() != 0) {
                throw new IllegalStateException("npm ci in " + DIR + " failed:\n" + r.output());
            }
        }
    }

    static Run node(String script, Map<String, String> env, long timeoutSeconds) throws Exception {
        return run(List.of("node", script), env, timeoutSeconds);
    }

    private static Run run(List<String> cmd, Map<String, String> env, long timeoutSeconds)
            throws IOException, InterruptedException {
        Path log = Files.createTempFile("strata-node-", ".log");
        try {
            ProcessBuilder pb = new ProcessBuilder(new ArrayList<>(cmd)).directory(DIR.toFile())
                    .redirectErrorStream(true).redirectOutput(log.toFile());
            pb.environment().putAll(env);
            Process p = pb.start();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
                return new Run(-1, "timed out after " + timeoutSeconds + " s:\n" + Files.readString(log));
            }
            return new Run(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(log);
        }
    }
}
