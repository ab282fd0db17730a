package io.strata.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Block sizes and byte arithmetic of the element types, checked against ggml's block layouts. */
class DTypeTest {
    @Test
    void blockLayoutsAreGgmls() {
        // sizeof(block_*) in ggml-common.h: d (f16) + quants (+ mins / high bits / scales)
        assertEquals(2 + 32, DType.Q8_0.blockBytes());
        assertEquals(2 + 16, DType.Q4_0.blockBytes());
        assertEquals(2 + 2 + 16, DType.Q4_1.blockBytes());
        assertEquals(2 + 4 + 16, DType.Q5_0.blockBytes());
        assertEquals(2 + 2 + 4 + 16, DType.Q5_1.blockBytes());
        assertEquals(16 + 64 + 2 + 2, DType.Q2_K.blockBytes());
        assertEquals(32 + 64 + 12 + 2, DType.Q3_K.blockBytes());
        assertEquals(2 + 2 + 12 + 128, DType.Q4_K.blockBytes());
        assertEquals(2 + 2 + 12 + 32 + 128, DType.Q5_K.blockBytes());
        assertEquals(128 + 64 + 16 + 2, DType.Q6_K.blockBytes());
        assertEquals(1 + 16, DType.MXFP4.blockBytes());
        for (DType t : DType.values()) {
            int expect = t.name().endsWith("_K") ? 256 : t.isQuantized() ? 32 : 1;
            assertEquals(expect, t.blockSize(), t.name());
        }
        assertEquals(4.5, DType.Q4_K.bitsPerElement());
        assertEquals(8.5, DType.Q8_0.bitsPerElement());
    }

    @Test
    void ggmlTypeIdsMapBothWays() {
        assertEquals(Optional.of(DType.F32), DType.fromGgmlTypeId(0));
        assertEquals(Optional.of(DType.F16), DType.fromGgmlTypeId(1));
        assertEquals(Optional.of(DType.Q4_0), DType.fromGgmlTypeId(2));
        assertEquals(Optional.of(DType.Q8_0), DType.fromGgmlTypeId(8));
        assertEquals(Optional.of(DType.Q4_K), DType.fromGgmlTypeId(12));
        assertEquals(Optional.of(DType.Q6_K), DType.fromGgmlTypeId(14));
        assertEquals(Optional.of(DType.BF16), DType.fromGgmlTypeId(30));
        assertEquals(Optional.of(DType.MXFP4), DType.fromGgmlTypeId(39));
        assertEquals(Optional.empty(), DType.fromGgmlTypeId(16), "IQ2_XXS is not supported");
        assertEquals(Optional.empty(), DType.fromGgmlTypeId(-1), "U8 has no ggml id");
        Set<Integer> ids = new HashSet<>();
        for (DType t : DType.values()) {
            if (t.ggmlTypeId() >= 0) {
                assertTrue(ids.add(t.ggmlTypeId()), "unique id " + t);
                assertEquals(Optional.of(t), DType.fromGgmlTypeId(t.ggmlTypeId()));
            }
        }
    }

    @Test
    void byteCountsRespectBlocks() {
        assertEquals(4 * 34, DType.Q8_0.bytesFor(128));
        assertEquals(3 * 144, DType.Q4_K.rowBytes(768));
        assertEquals(2 * 3 * 210, DType.Q6_K.bytesFor(new long[]{2, 768}));
        assertEquals(24, DType.F32.bytesFor(new long[]{2, 3}));
        assertEquals(4, DType.F32.bytesFor(new long[0]), "a scalar is one element");
        assertEquals(0, DType.Q4_0.bytesFor(new long[]{0, 64}));
        assertTrue(DType.Q4_0.isWholeBlocks(64));
        assertFalse(DType.Q4_0.isWholeBlocks(48));
        var e = assertThrows(IllegalArgumentException.class, () -> DType.Q4_K.bytesFor(300));
        assertEquals("300 elements of Q4_K are not a whole number of 256-element blocks", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> DType.Q8_0.bytesFor(new long[]{32, 16}));
        assertTrue(e.getMessage().contains("a row of 16 elements of Q8_0"), e.getMessage());
        assertThrows(ArithmeticException.class, () -> DType.F64.bytesFor(Long.MAX_VALUE / 4));
    }

    @Test
    void plainTypesKeepTheirElementSizeAndQuantisedOnesRefuseOne() {
        assertEquals(2, DType.BF16.byteSize());
        assertEquals(8, DType.I64.byteSize());
        var e = assertThrows(UnsupportedOperationException.class, () -> DType.Q4_K.byteSize());
        assertTrue(e.getMessage().contains("use bytesFor"), e.getMessage());
        assertTrue(DType.Q5_K.isQuantized());
        assertFalse(DType.F16.isQuantized());
        assertFalse(DType.Q8_0.isFloat());
    }

    @Test
    void manifestSpellingParses() {
        for (DType t : DType.values()) {
            assertEquals(Optional.of(t), DType.parse(t.manifestName()));
        }
        assertEquals(Optional.of(DType.Q4_K), DType.parse("q4_k"));
        assertEquals(Optional.empty(), DType.parse("Q4_K_M"), "a file type, not an element type");
    }
}
