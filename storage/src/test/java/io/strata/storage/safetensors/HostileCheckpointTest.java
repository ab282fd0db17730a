package io.strata.storage.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoints made to hang, exhaust or confuse the reader: each is a one-line error naming file and field. */
class HostileCheckpointTest {
    static final String NORM = "\"model.norm.weight\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}";

    @TempDir
    Path tmp;

    private String fails(Path src) {
        return assertTimeoutPreemptively(Duration.ofSeconds(30),
                () -> assertThrows(CheckpointException.class, () -> Checkpoint.open(src).close())).getMessage();
    }

    private Path dirWith(String header, int data) throws Exception {
        Path src = Files.createDirectories(tmp.resolve("src"));
        SafetensorsBytes.write(src.resolve("model.safetensors"), header, data);
        return src;
    }

    /** A header of {@code n} U8 tensors {@code t0, t1, ...} of {@code bytes} (0 or 1) bytes each, back to back. */
    static String oneByteTensors(int n, int bytes) {
        StringBuilder h = new StringBuilder(n * 64).append('{');
        for (int i = 0; i < n; i++) {
            h.append(i == 0 ? "" : ",").append("\"t").append(i).append("\":{\"dtype\":\"U8\",\"shape\":[")
                    .append(bytes).append("],\"data_offsets\":[").append(i * bytes).append(',')
                    .append((i + 1) * bytes).append("]}");
        }
        return h.append('}').toString();
    }

    @Test
    void fractionalDataOffsetsAreRejected() throws Exception {
        String m = fails(dirWith("{\"x.weight\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0.5,16.5]}}", 17));
        assertTrue(m.contains("model.safetensors") && m.contains("'x.weight'") && m.contains("data_offsets")
                && m.contains("0.5"), m);
    }

    @Test
    void fractionalShapesAreRejected() throws Exception {
        String m = fails(dirWith("{\"x.weight\":{\"dtype\":\"F32\",\"shape\":[4.0],\"data_offsets\":[0,16]}}", 16));
        assertTrue(m.contains("'x.weight'") && m.contains("shape[0]"), m);
    }

    @Test
    void fifoAsConfigJsonIsRefusedNotAwaited() throws Exception {
        Path src = dirWith("{" + NORM + "}", 16);
        Process p = new ProcessBuilder("mkfifo", src.resolve("config.json").toString()).start();
        Assumptions.assumeTrue(p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0, "mkfifo failed");
        String m = fails(src);
        assertTrue(m.contains("config.json") && m.contains("not a regular file"), m);
    }

    @Test
    void symlinkToDevZeroAsConfigJsonIsRefusedNotRead() throws Exception {
        Assumptions.assumeTrue(Files.exists(Path.of("/dev/zero")), "no /dev/zero here");
        Path src = dirWith("{" + NORM + "}", 16);
        Files.createSymbolicLink(src.resolve("config.json"), Path.of("/dev/zero"));
        String m = fails(src);
        assertTrue(m.contains("config.json") && m.contains("not a regular file"), m);
    }

    @Test
    void nulInAnIndexFileNameNamesTheEntry() throws Exception {
        Path src = dirWith("{" + NORM + "}", 16);
        Files.writeString(src.resolve(Checkpoint.INDEX),
                "{\"weight_map\":{\"model.norm.weight\":\"model\\u0000.safetensors\"}}");
        String m = fails(src);
        assertTrue(m.contains("weight_map['model.norm.weight']") && m.contains("not a plain file name"), m);
    }

    @Test
    void threeHundredThousandTensorsAreRefusedByCountNotByOutOfMemory() throws Exception {
        String m = fails(dirWith(oneByteTensors(300_000, 0), 0));
        assertTrue(m.contains("model.safetensors") && m.contains("more than " + Checkpoint.MAX_TENSORS + " tensors"), m);
    }

    @Test
    void aHeaderOfManyTensorsWithinTheBoundStillReads() throws Exception {
        int n = 20_000;
        try (Checkpoint c = Checkpoint.open(dirWith(oneByteTensors(n, 1), n))) {
            assertEquals(n, c.tensors().size());
            assertEquals(1, c.tensor("t19999").byteSize());
        }
    }
}
