package io.strata.storage.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.core.model.DType;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsFileTest {
    @TempDir
    Path tmp;

    private String fail(String header, int data) throws Exception {
        Path f = SafetensorsBytes.write(tmp.resolve("x.safetensors"), header, data);
        var e = assertThrows(CheckpointException.class, () -> SafetensorsFile.open(f));
        assertTrue(e.getMessage().startsWith(f.toString()), "names the file: " + e.getMessage());
        return e.getMessage();
    }

    @Test
    void readsTensorsAsZeroCopySlices() throws Exception {
        Path f = SafetensorsBytes.write(tmp.resolve("ok.safetensors"),
                "{\"__metadata__\":{\"format\":\"pt\"},\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
                        + "\"b\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[24,32]}}", 32);
        try (SafetensorsFile s = SafetensorsFile.open(f)) {
            assertEquals("pt", s.metadata().get("format"));
            SafetensorsTensor b = s.tensor("b");
            assertEquals(DType.BF16, b.dtype());
            assertArrayEquals(new long[]{4}, b.shape());
            assertArrayEquals(new byte[]{24, 25, 26, 27, 28, 29, 30, 31}, b.data().toArray(ValueLayout.JAVA_BYTE));
            long headerLen = Files.size(f) - 32 - 8;
            assertEquals(8 + headerLen + 24, b.fileOffset());
            assertEquals(24, s.tensor("a").byteSize());
        }
    }

    @Test
    void truncatedDataIsNamed() throws Exception {
        String m = fail("{\"w\":{\"dtype\":\"F32\",\"shape\":[4,4],\"data_offsets\":[0,64]}}", 40);
        assertTrue(m.contains("'w'") && m.contains("truncated"), m);
    }

    @Test
    void offsetsOutOfRange() throws Exception {
        String m = fail("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[100,104]}}", 16);
        assertTrue(m.contains("'w'") && m.contains("outside the data area"), m);
        m = fail("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", 16);
        assertTrue(m.contains("outside"), m);
    }

    @Test
    void overlappingTensors() throws Exception {
        String m = fail("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}", 24);
        assertTrue(m.contains("'a'") && m.contains("'b'") && m.contains("overlap"), m);
    }

    /** An empty tensor sorted between two overlapping ones must not hide the overlap. */
    @Test
    void overlapAroundAnEmptyTensor() throws Exception {
        String m = fail("{\"a\":{\"dtype\":\"F32\",\"shape\":[25],\"data_offsets\":[0,100]},"
                + "\"e\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[50,50]},"
                + "\"c\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[60,76]}}", 100);
        assertTrue(m.contains("'a'") && m.contains("'c'") && m.contains("overlap"), m);
    }

    @Test
    void emptyTensorsAreFine() throws Exception {
        Path f = SafetensorsBytes.write(tmp.resolve("e.safetensors"),
                "{\"e\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[0,0]},"
                        + "\"s\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]}}", 8);
        try (SafetensorsFile s = SafetensorsFile.open(f)) {
            assertEquals(0, s.tensor("e").byteSize());
            assertEquals(8, s.tensor("s").byteSize());
        }
    }

    @Test
    void headerLengthLargerThanTheFile() throws Exception {
        Path f = SafetensorsBytes.write(tmp.resolve("h.safetensors"), "{}", 0, 5000);
        var e = assertThrows(CheckpointException.class, () -> SafetensorsFile.open(f));
        assertTrue(e.getMessage().contains("larger than the file"), e.getMessage());
        Path g = SafetensorsBytes.write(tmp.resolve("g.safetensors"), "{}", 0, 1L << 40);
        e = assertThrows(CheckpointException.class, () -> SafetensorsFile.open(g));
        assertTrue(e.getMessage().contains("out of bounds"), e.getMessage());
    }

    @Test
    void shorterThanTheLengthField() throws Exception {
        Path f = tmp.resolve("tiny.safetensors");
        Files.write(f, new byte[]{1, 2, 3});
        var e = assertThrows(CheckpointException.class, () -> SafetensorsFile.open(f));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void unknownDtype() throws Exception {
        String m = fail("{\"w\":{\"dtype\":\"F8_E4M3X\",\"shape\":[4],\"data_offsets\":[0,4]}}", 4);
        assertTrue(m.contains("'w'") && m.contains("unknown dtype 'F8_E4M3X'"), m);
    }

    @Test
    void sizeNotMatchingShape() throws Exception {
        String m = fail("{\"w\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8);
        assertTrue(m.contains("holds 8 bytes") && m.contains("needs 6"), m);
    }

    @Test
    void malformedHeaders() throws Exception {
        assertTrue(fail("{not json", 0).contains("not valid JSON"));
        assertTrue(fail("[1,2]", 0).contains("not a JSON object"));
        assertTrue(fail("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,0]}}", 0).contains("shape[0]"));
        assertTrue(fail("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4).contains("data_offsets"));
        assertTrue(fail("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4).contains("shape"));
        assertTrue(fail("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4).contains("not valid JSON"));
    }

    @Test
    void missingFile() {
        var e = assertThrows(CheckpointException.class, () -> SafetensorsFile.open(tmp.resolve("none.safetensors")));
        assertTrue(e.getMessage().contains("no such file"), e.getMessage());
    }
}
