package io.strata.loader.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.storage.codec.CodecKind;
import org.junit.jupiter.api.Test;

class KvOptionsTest {
    @Test
    void runFlagsMapOntoOptions() {
        KvOptions o = KvOptions.fromFlags("64MiB", "zstd");
        assertEquals(64L << 20, o.fastBudgetBytes());
        assertEquals(CodecKind.ZSTD, o.codec());
        assertEquals(Long.MAX_VALUE, KvOptions.fromFlags(null, null).fastBudgetBytes());
        assertEquals(Long.MAX_VALUE, KvOptions.fromFlags("unlimited", "LZ4").fastBudgetBytes());
        assertEquals(CodecKind.NONE, KvOptions.fromFlags(null, "none").codec());
        assertTrue(KvOptions.fromFlags(null, "auto").adaptiveCodec());
        assertTrue(!KvOptions.fromFlags(null, "lz4").adaptiveCodec());
        var bad = assertThrows(IllegalArgumentException.class, () -> KvOptions.fromFlags(null, "snappy"));
        assertTrue(bad.getMessage().contains("snappy") && bad.getMessage().contains("lz4, zstd or none"));
        assertThrows(IllegalArgumentException.class, () -> KvOptions.fromFlags("lots", null));
        assertThrows(IllegalArgumentException.class, () -> KvOptions.fromFlags("0", null));
    }

    @Test
    void inconsistentOptionsAreRejected() {
        KvOptions d = KvOptions.defaults();
        assertThrows(IllegalArgumentException.class, () -> d.withPaging(0, 1));
        assertThrows(IllegalArgumentException.class, () -> d.withPaging(16, 0));
        assertThrows(IllegalArgumentException.class, () -> d.withPlaneWidth(3));
        assertThrows(IllegalArgumentException.class, () -> d.withHostBudget(-1));
    }
}
