package io.strata.storage.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.core.manifest.Manifest;
import io.strata.core.manifest.ShardInfo;
import io.strata.storage.model.ModelVerifier;
import io.strata.storage.safetensors.Checkpoint;
import io.strata.storage.safetensors.SafetensorsBytes;
import io.strata.storage.synth.SyntheticCheckpoint;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every bad input: a clear message naming file, tensor and reason, and nothing left at the output path. */
class BadInputTest {
    static final String GOOD = "{\"model.norm.weight\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}";

    @TempDir
    Path tmp;

    private String failsCleanly(Path src) throws Exception {
        Path out = tmp.resolve("out");
        RuntimeException e = assertThrows(RuntimeException.class,
                () -> ShardConverter.convert(src, out, ConvertOptions.defaults(), ProgressListener.NONE));
        assertFalse(Files.exists(out), "no partial output");
        try (var s = Files.list(tmp)) {
            assertEquals(List.of(), s.filter(p -> p.getFileName().toString().startsWith(".out")).toList(),
                    "no temporary directory left");
        }
        return e.getMessage();
    }

    private Path twoFileCheckpoint(String secondHeader, int secondData) throws Exception {
        Path src = Files.createDirectories(tmp.resolve("src"));
        SafetensorsBytes.write(src.resolve("a.safetensors"), GOOD, 16);
        SafetensorsBytes.write(src.resolve("b.safetensors"), secondHeader, secondData);
        return src;
    }

    @Test
    void truncatedShard() throws Exception {
        Path src = tmp.resolve("src");
        SyntheticCheckpoint.builder().shards(2).write(src);
        Path second = src.resolve("model-00002-of-00002.safetensors");
        try (RandomAccessFile f = new RandomAccessFile(second.toFile(), "rw")) {
            f.setLength(f.length() - 100);
        }
        String m = failsCleanly(src);
        assertTrue(m.contains(second.toString()) && m.contains("lm_head.weight") && m.contains("truncated"), m);
    }

    @Test
    void headerOffsetsOutOfRange() throws Exception {
        String m = failsCleanly(twoFileCheckpoint(
                "{\"lm_head.weight\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[64,80]}}", 16));
        assertTrue(m.contains("b.safetensors") && m.contains("'lm_head.weight'") && m.contains("outside"), m);
    }

    @Test
    void overlappingTensors() throws Exception {
        String m = failsCleanly(twoFileCheckpoint(
                "{\"x.weight\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                        + "\"y.weight\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}", 24));
        assertTrue(m.contains("b.safetensors") && m.contains("'x.weight'") && m.contains("overlap"), m);
    }

    @Test
    void headerLengthLargerThanTheFile() throws Exception {
        Path src = Files.createDirectories(tmp.resolve("src"));
        SafetensorsBytes.write(src.resolve("a.safetensors"), GOOD, 16, 1 << 20);
        String m = failsCleanly(src);
        assertTrue(m.contains("a.safetensors") && m.contains("header length") && m.contains("larger than the file"), m);
    }

    @Test
    void unknownDtype() throws Exception {
        String m = failsCleanly(twoFileCheckpoint(
                "{\"lm_head.weight\":{\"dtype\":\"Q4_K\",\"shape\":[4],\"data_offsets\":[0,4]}}", 4));
        assertTrue(m.contains("b.safetensors") && m.contains("'lm_head.weight'") && m.contains("unknown dtype"), m);
    }

    @Test
    void missingIndexEntry() throws Exception {
        Path src = tmp.resolve("src");
        SyntheticCheckpoint.builder().shards(2).write(src);
        Path index = src.resolve(Checkpoint.INDEX);
        String json = Files.readString(index);
        String entry = "\"model.norm.weight\" : \"model-00002-of-00002.safetensors\",";
        assertTrue(json.contains(entry), json);
        Files.writeString(index, json.replace(entry, ""));
        String m = failsCleanly(src);
        assertTrue(m.contains("model.norm.weight") && m.contains("no weight_map entry"), m);
    }

    @Test
    void notACheckpoint() throws Exception {
        String m = failsCleanly(Files.createDirectories(tmp.resolve("empty")));
        assertTrue(m.contains("empty") && m.contains("no model.safetensors.index.json"), m);
        m = failsCleanly(tmp.resolve("nowhere"));
        assertTrue(m.contains("no such file"), m);
    }

    /** verify names the shard and chunk of a single flipped byte, and reports every other shard clean. */
    @Test
    void flippedByteIsCaughtByVerify() throws Exception {
        Path src = tmp.resolve("src");
        SyntheticCheckpoint.builder().hidden(128).intermediate(256).write(src);
        Path out = tmp.resolve("conv");
        Manifest m = ShardConverter.convert(src, out, ConvertOptions.defaults().withChunkSize(16 << 10)
                .withShardSize(256 << 10), ProgressListener.NONE).manifest();
        assertTrue(ModelVerifier.verify(out, x -> { }).ok());
        ShardInfo victim = m.shards().get(1);
        long pos = 3 * (16 << 10) + 123;
        Path file = out.resolve(victim.filename());
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(pos);
            int b = f.read();
            f.seek(pos);
            f.write(b ^ 0x01);
        }
        ModelVerifier.Report r = ModelVerifier.verify(out, x -> { });
        assertFalse(r.ok());
        List<ModelVerifier.Problem> chunks = r.problems().stream().filter(p -> p.chunk() >= 0).toList();
        assertEquals(1, chunks.size(), r.problems().toString());
        assertEquals(1, chunks.getFirst().shard());
        assertEquals(3, chunks.getFirst().chunk());
        assertTrue(chunks.getFirst().toString().contains(victim.filename()));
        assertTrue(r.problems().stream().allMatch(p -> p.shard() == 1), "only the damaged shard is reported");
        assertTrue(r.problems().stream().anyMatch(p -> p.reason().contains("whole-file")));
    }

    @Test
    void resizedOrMissingShardIsReportedByVerify() throws Exception {
        Path out = tmp.resolve("conv");
        Manifest m = ShardConverter.convert(ShardConverterTest.FIXTURE, out, ConvertOptions.defaults()
                .withShardSize(256 << 10), ProgressListener.NONE).manifest();
        Files.delete(out.resolve(m.shards().get(0).filename()));
        try (RandomAccessFile f = new RandomAccessFile(out.resolve(m.shards().get(2).filename()).toFile(), "rw")) {
            f.setLength(10);
        }
        var r = ModelVerifier.verify(out, x -> { });
        assertEquals(2, r.problems().size(), r.problems().toString());
        assertTrue(r.problems().get(0).reason().contains("missing"));
        assertTrue(r.problems().get(1).reason().contains("is 10 bytes"));
    }
}
