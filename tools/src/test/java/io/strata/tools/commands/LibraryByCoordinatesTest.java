package io.strata.tools.commands;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.core.model.ExpertProjection;
import io.strata.core.weights.TensorView;
import io.strata.loader.cache.ExpertHandle;
import io.strata.loader.runtime.ModelRuntime;
import io.strata.loader.runtime.RuntimeOptions;
import io.strata.storage.fs.FileTrees;
import io.strata.testdata.TestData;
import java.io.File;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * examples/model-runtime, a standalone Maven project that depends on Strata only by coordinates (the BOM and
 * strata-loader), built and run against a converted model. The modules it needs (bom, loader and what loader
 * needs) are installed into a private local repository under target/, never the shared ~/.m2, and third-party
 * artifacts are read from ~/.m2 as a file repository (Central where one is missing), so the test works offline
 * once the main build has run. Measured on 2 loaded cores: install ~25 s, example build ~12 s.
 */
class LibraryByCoordinatesTest {
    private static final Path ROOT = TestData.root().getParent().getParent();

    private static String run(Path dir, long timeoutSeconds, String... cmd) throws IOException, InterruptedException {
        Path log = Files.createTempFile("strata-example-", ".log");
        try {
            Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                    .redirectOutput(log.toFile()).start();
            boolean done = p.waitFor(timeoutSeconds, TimeUnit.SECONDS);
            if (!done) {
                p.destroyForcibly().waitFor();
            }
            String out = Files.readString(log);
            assertTrue(done && p.exitValue() == 0, String.join(" ", cmd) + (done ? " failed" : " timed out")
                    + ":\n" + out);
            return out;
        } finally {
            Files.deleteIfExists(log);
        }
    }

    /** The example's sources and pom, not its build output. */
    private static void copy(Path from, Path to) throws IOException {
        try (var files = Files.walk(from)) {
            for (Path p : files.toList()) {
                Path rel = from.relativize(p);
                if (rel.startsWith("target")) {
                    continue;
                }
                if (Files.isDirectory(p)) {
                    Files.createDirectories(to.resolve(rel.toString()));
                } else {
                    Files.copy(p, to.resolve(rel.toString()));
                }
            }
        }
    }

    @Test
    void standaloneProjectUsesStrataByCoordinates() throws Exception {
        Path work = ROOT.resolve("tools/target/library-by-coordinates");
        FileTrees.delete(work);
        Files.createDirectories(work);
        Path repo = work.resolve("repo");
        Path settings = work.resolve("settings.xml");
        String m2 = Path.of(System.getProperty("user.home"), ".m2", "repository").toUri().toString();
        Files.writeString(settings, """
                <settings><profiles><profile><id>user-m2</id>
                  <repositories><repository><id>user-m2</id><url>%1$s</url>
                    <snapshots><enabled>false</enabled></snapshots></repository></repositories>
                  <pluginRepositories><pluginRepository><id>user-m2</id><url>%1$s</url>
                    <snapshots><enabled>false</enabled></snapshots></pluginRepository></pluginRepositories>
                </profile></profiles><activeProfiles><activeProfile>user-m2</activeProfile></activeProfiles></settings>
                """.formatted(m2));
        String mvnw = ROOT.resolve("mvnw").toString();
        run(ROOT, 600, mvnw, "-q", "install", "-DskipTests", "-pl", "bom,loader", "-am",
                "-Dmaven.repo.local=" + repo, "-s", settings.toString());

        Path project = work.resolve("model-runtime");
        copy(ROOT.resolve("examples/model-runtime"), project);
        run(project, 600, mvnw, "-q", "-f", project.resolve("pom.xml").toString(), "package",
                "dependency:build-classpath", "-Dmdep.outputFile=" + project.resolve("target/classpath.txt"),
                "-Dmaven.repo.local=" + repo, "-s", settings.toString());

        Path model = work.resolve("model");
        assertEquals(0, Cli.run("shard-convert", TestData.dir("fixtures/tiny-mixtral-f32").toString(),
                model.toString(), "-q").code());
        String cp = project.resolve("target/classes") + File.pathSeparator
                + Files.readString(project.resolve("target/classpath.txt")).strip();
        List<String> java = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-cp", cp,
                "example.PinExpert", model.toString(), "1", "2"));
        String out = run(work, 120, java.toArray(String[]::new));

        // what the example printed is what the runtime in this JVM reads for the same expert
        try (ModelRuntime rt = ModelRuntime.open(model, RuntimeOptions.builder().noDiskCache().build());
             ExpertHandle h = rt.expert(1, 2)) {
            TensorView w1 = h.tensor(ExpertProjection.GATE);
            long sum = 0;
            for (long i = 0; i < w1.data().byteSize(); i++) {
                sum += w1.data().get(ValueLayout.JAVA_BYTE, i) & 0xff;
            }
            String expected = "layer 1 expert 2: " + w1.name() + " " + w1.dtype() + " " + Arrays.toString(w1.shape())
                    + ", " + w1.data().byteSize() + " bytes, byte sum " + sum;
            assertTrue(out.contains(expected), "expected '" + expected + "' in:\n" + out);
        }
        assertTrue(out.contains("prefetch: issued"), out); // the telemetry table printed at the end
    }
}
