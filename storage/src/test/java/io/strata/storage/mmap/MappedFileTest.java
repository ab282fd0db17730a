package io.strata.storage.mmap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MappedFileTest {
    @TempDir
    Path tmp;

    @Test
    void mappingLivesUntilTheLastRelease() throws Exception {
        Path f = Files.write(tmp.resolve("f"), new byte[]{10, 20, 30, 40});
        MappedFile m = MappedFile.open(f);
        assertEquals(4, m.size());
        MemorySegment s = m.slice(1, 2);
        assertEquals(20, s.get(ValueLayout.JAVA_BYTE, 0));
        m.retain();
        m.release();
        assertTrue(m.isOpen());
        assertEquals(30, s.get(ValueLayout.JAVA_BYTE, 1), "still mapped while one holder is left");
        m.release();
        assertFalse(m.isOpen());
        assertThrows(IllegalStateException.class, () -> s.get(ValueLayout.JAVA_BYTE, 0));
        assertThrows(IllegalStateException.class, m::segment);
        assertThrows(IllegalStateException.class, m::retain);
        assertThrows(IllegalStateException.class, m::release);
    }

    @Test
    void emptyFileMapsToAnEmptySegment() throws Exception {
        MappedFile m = MappedFile.open(Files.write(tmp.resolve("e"), new byte[0]));
        assertEquals(0, m.segment().byteSize());
        m.release();
    }

    @Test
    void readOnly() throws Exception {
        MappedFile m = MappedFile.open(Files.write(tmp.resolve("r"), new byte[8]));
        try {
            assertThrows(IllegalArgumentException.class, () -> m.segment().set(ValueLayout.JAVA_BYTE, 0, (byte) 1));
        } finally {
            m.release();
        }
    }
}
