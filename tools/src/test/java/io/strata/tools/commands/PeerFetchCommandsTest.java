package io.strata.tools.commands;

import io.strata.testdata.TestData;

import static io.strata.tools.commands.Cli.run;

import io.strata.tools.commands.Cli.Run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.core.hash.Blake3;
import io.strata.tools.StrataCli;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** strata peer + strata fetch in-process over 127.0.0.1, then strata verify on the result. */
class PeerFetchCommandsTest {
    static final Path FIXTURE = TestData.dir("fixtures/tiny-mixtral-f32");

    @TempDir
    Path tmp;

    /** Collects output and completes a future with the first match of a pattern (the peer's bound address). */
    static final class Watch extends Writer {
        final StringBuilder text = new StringBuilder();
        final Pattern pattern;
        final CompletableFuture<Matcher> match = new CompletableFuture<>();

        Watch(Pattern pattern) {
            this.pattern = pattern;
        }

        @Override
        public synchronized void write(char[] c, int off, int len) {
            text.append(c, off, len);
            Matcher m = pattern.matcher(text);
            if (!match.isDone() && m.find()) {
                match.complete(m);
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }

        synchronized String text() {
            return text.toString();
        }
    }

    @Test
    void peerServesFetchDownloadsAndVerifyPasses() throws Exception {
        Path model = tmp.resolve("model");
        Run c = run("shard-convert", FIXTURE.toString(), model.toString(), "--shard-size", "256KiB",
                "--chunk-size", "64KiB");
        assertEquals(0, c.code(), c.err());
        String hash = Blake3.hashHex(Files.readAllBytes(model.resolve("manifest.json")));

        Watch watch = new Watch(Pattern.compile("publisher key ([0-9a-f]{64})[\\s\\S]*listening on (\\S+)"));
        StringWriter peerErr = new StringWriter();
        CompletableFuture<Integer> peerExit = new CompletableFuture<>();
        Thread peer = Thread.ofPlatform().name("test-strata-peer").start(() -> {
            CommandLine cl = StrataCli.commandLine();
            cl.setOut(new PrintWriter(watch, true));
            cl.setErr(new PrintWriter(peerErr, true));
            peerExit.complete(cl.execute("peer", "--model", model.toString(), "--listen", "127.0.0.1:0",
                    "--sign-key", tmp.resolve("publisher.key").toString(), "--max-upload", "512MiB"));
        });
        try {
            Matcher m = watch.match.get(30, TimeUnit.SECONDS);
            String publisher = m.group(1);
            String addr = m.group(2);
            assertTrue(Files.exists(model.resolve("manifest.sig")), "--sign-key wrote manifest.sig");

            Path out = tmp.resolve("fetched");
            Run f = run("fetch", hash, "--peers", addr, "--out", out.toString(), "--trust", publisher,
                    "--listen", "127.0.0.1:0");
            assertEquals(0, f.code(), f.err());
            assertTrue(f.out().contains("fetched model " + hash), f.out());
            Run v = run("verify", out.toString());
            assertEquals(0, v.code(), v.out() + v.err());

            // a manifest not signed by the trusted key is refused, and nothing is written
            Path refused = tmp.resolve("refused");
            Run bad = run("fetch", hash, "--peers", addr, "--out", refused.toString(), "--trust", "ab".repeat(32),
                    "--listen", "127.0.0.1:0");
            assertEquals(1, bad.code());
            assertTrue(bad.err().contains("not signed by the trusted key"), bad.err());
            assertFalse(Files.exists(refused.resolve("manifest.json")));

            // fetching by a local manifest.json works too
            Path byFile = tmp.resolve("byfile");
            Run f2 = run("fetch", model.resolve("manifest.json").toString(), "--peers", addr, "--out",
                    byFile.toString(), "--listen", "127.0.0.1:0");
            assertEquals(0, f2.code(), f2.err());
            assertEquals(0, run("verify", byFile.toString()).code());

            Run unreachable = run("fetch", hash, "--peers", "127.0.0.1:1", "--out", tmp.resolve("x").toString(),
                    "--listen", "127.0.0.1:0");
            assertEquals(1, unreachable.code());
            assertTrue(unreachable.err().contains("could be reached"), unreachable.err());
        } finally {
            peer.interrupt();
            peer.join(10_000);
        }
        assertEquals(0, peerExit.get(10, TimeUnit.SECONDS), peerErr.toString());
        assertTrue(watch.text().contains("served "), watch.text());
    }

    @Test
    void fetchListensOnLoopbackByDefault() {
        FetchCommand f = new FetchCommand();
        new CommandLine(f).parseArgs("ab".repeat(32), "--peers", "127.0.0.1:9", "--out", tmp.toString());
        assertEquals("127.0.0.1:0", f.listen, "serving while fetching is not offered to the network unasked");
    }

    @Test
    void sigtermDuringFetchLeavesNothingPartial() throws Exception {
        Path model = tmp.resolve("model");
        assertEquals(0, run("shard-convert", FIXTURE.toString(), model.toString(), "--shard-size", "256KiB",
                "--chunk-size", "64KiB").code());
        String hash = Blake3.hashHex(Files.readAllBytes(model.resolve("manifest.json")));
        Watch watch = new Watch(Pattern.compile("listening on (\\S+)"));
        CompletableFuture<Integer> peerExit = new CompletableFuture<>();
        Thread peer = Thread.ofPlatform().name("test-strata-peer").start(() -> {
            CommandLine cl = StrataCli.commandLine();
            cl.setOut(new PrintWriter(watch, true));
            cl.setErr(new PrintWriter(new StringWriter(), true));
            // slow upload: the fetch is mid-transfer for seconds
            peerExit.complete(cl.execute("peer", "--model", model.toString(), "--listen", "127.0.0.1:0",
                    "--max-upload", "96KiB"));
        });
        Path out = tmp.resolve("fetched");
        Path log = tmp.resolve("fetch.log");
        Process p = null;
        try {
            String addr = watch.match.get(30, TimeUnit.SECONDS).group(1);
            String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            p = new ProcessBuilder(javaBin, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", // quick start
                    "--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                    "-cp", System.getProperty("java.class.path"), StrataCli.class.getName(), "fetch", hash,
                    "--peers", addr, "--out", out.toString()).redirectErrorStream(true)
                    .redirectOutput(log.toFile()).start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!receiving(out) && p.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(20); // polling interval of a bounded wait
            }
            assertTrue(receiving(out), "the fetch was writing when stopped: " + Files.readString(log));
            p.destroy(); // SIGTERM
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "fetch exited on SIGTERM");
            assertFalse(Files.exists(out), "nothing partial is left, not even the directory fetch created: "
                    + (Files.exists(out) ? java.util.Arrays.toString(out.toFile().list()) : "") + "\n"
                    + Files.readString(log));
        } finally {
            if (p != null) {
                p.destroyForcibly();
            }
            peer.interrupt();
            peer.join(10_000);
        }
        assertEquals(0, peerExit.get(10, TimeUnit.SECONDS));
    }

    /** True once {@code out} holds a received byte (in a staging directory, or a .part file of old). */
    private static boolean receiving(Path out) throws java.io.IOException {
        if (!Files.isDirectory(out)) {
            return false;
        }
        try (var s = Files.walk(out)) {
            return s.anyMatch(f -> Files.isRegularFile(f) && f.toFile().length() > 0);
        }
    }

    @Test
    void benchFetchRunsEveryModeAndCleansUp() throws Exception {
        Path work = tmp.resolve("bench");
        Run b = run("bench", "fetch", "--size", "2MiB", "--shard-size", "1MiB", "--chunk", "64KiB", "--repeat", "1",
                "--seeds", "2", "--dir", work.toString());
        assertEquals(0, b.code(), b.err());
        for (String row : new String[]{"plain socket copy", "mesh fetch, 1 seed", "mesh fetch, 2 seeds"}) {
            assertTrue(b.out().contains(row), b.out());
        }
        try (var left = Files.list(work)) {
            assertEquals(java.util.List.of(work.resolve("origin")), left.toList(), "only the generated model stays");
        }
    }
}
