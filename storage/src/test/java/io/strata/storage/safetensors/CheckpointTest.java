package io.strata.storage.safetensors;

import io.strata.testdata.TestData;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointTest {
    static final Path FIXTURE = TestData.dir("fixtures/tiny-mixtral-f32");
    static final String A = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    static final String B = "{\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";

    @TempDir
    Path tmp;

    @Test
    void fixtureOpensWithIndexOrderAndConfig() {
        try (Checkpoint c = Checkpoint.open(FIXTURE)) {
            assertEquals(41, c.tensors().size());
            assertEquals("model.embed_tokens.weight", c.tensors().keySet().iterator().next());
            assertEquals(1019136, c.totalBytes());
            assertEquals(4, c.config().path("num_local_experts").asInt());
            assertEquals(2, c.files().size());
        }
    }

    @Test
    void indexEntryNamingAMissingFile() throws Exception {
        SafetensorsBytes.write(tmp.resolve("p1.safetensors"), A, 8);
        Files.writeString(tmp.resolve(Checkpoint.INDEX),
                "{\"weight_map\":{\"a\":\"p1.safetensors\",\"b\":\"p2.safetensors\"}}");
        var e = assertThrows(CheckpointException.class, () -> Checkpoint.open(tmp));
        assertTrue(e.getMessage().contains("'b'") && e.getMessage().contains("p2.safetensors"), e.getMessage());
    }

    @Test
    void tensorWithoutIndexEntry() throws Exception {
        SafetensorsBytes.write(tmp.resolve("p1.safetensors"), A, 8);
        SafetensorsBytes.write(tmp.resolve("p2.safetensors"), B, 8);
        Files.writeString(tmp.resolve(Checkpoint.INDEX), "{\"weight_map\":{\"a\":\"p1.safetensors\"}}");
        // p2 is not referenced at all; add a referenced file with an extra tensor instead
        Files.writeString(tmp.resolve(Checkpoint.INDEX),
                "{\"weight_map\":{\"a\":\"p1.safetensors\",\"b\":\"p2.safetensors\"}}");
        SafetensorsBytes.write(tmp.resolve("p2.safetensors"), "{\"b\":{\"dtype\":\"F32\",\"shape\":[2],"
                + "\"data_offsets\":[0,8]},\"c\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", 16);
        var e = assertThrows(CheckpointException.class, () -> Checkpoint.open(tmp));
        assertTrue(e.getMessage().contains("'c'") && e.getMessage().contains("no weight_map entry"), e.getMessage());
    }

    @Test
    void indexEntryMissingFromItsFile() throws Exception {
        SafetensorsBytes.write(tmp.resolve("p1.safetensors"), A, 8);
        Files.writeString(tmp.resolve(Checkpoint.INDEX),
                "{\"weight_map\":{\"a\":\"p1.safetensors\",\"zz\":\"p1.safetensors\"}}");
        var e = assertThrows(CheckpointException.class, () -> Checkpoint.open(tmp));
        assertTrue(e.getMessage().contains("'zz'") && e.getMessage().contains("missing from this file"),
                e.getMessage());
    }

    @Test
    void indexMayNotEscapeTheDirectory() throws Exception {
        Files.writeString(tmp.resolve(Checkpoint.INDEX), "{\"weight_map\":{\"a\":\"../x.safetensors\"}}");
        var e = assertThrows(CheckpointException.class, () -> Checkpoint.open(tmp));
        assertTrue(e.getMessage().contains("not a plain file name"), e.getMessage());
    }

    @Test
    void unindexedDirectoryReadsEveryFileAndRejectsDuplicates() throws Exception {
        SafetensorsBytes.write(tmp.resolve("p1.safetensors"), A, 8);
        SafetensorsBytes.write(tmp.resolve("p2.safetensors"), B, 8);
        try (Checkpoint c = Checkpoint.open(tmp)) {
            assertEquals(2, c.tensors().size());
        }
        SafetensorsBytes.write(tmp.resolve("p3.safetensors"), A, 8);
        var e = assertThrows(CheckpointException.class, () -> Checkpoint.open(tmp));
        assertTrue(e.getMessage().contains("'a'") && e.getMessage().contains("another file"), e.getMessage());
    }

    @Test
    void emptyDirectory() {
        var e = assertThrows(CheckpointException.class, () -> Checkpoint.open(tmp));
        assertTrue(e.getMessage().contains("no model.safetensors.index.json"), e.getMessage());
    }
}
