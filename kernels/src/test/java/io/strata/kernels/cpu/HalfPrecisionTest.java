package io.strata.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import org.junit.jupiter.api.Test;

/** The in-register BF16/F16 widening of the vector matvec, checked exhaustively against the scalar definitions. */
class HalfPrecisionTest {
    private static final int L = VectorMatVec.L;

    private static void checkAll(boolean bf16) {
        int[] pairs = new int[L];
        float[] lo = new float[L];
        float[] hi = new float[L];
        for (int base = 0; base < 65536; base += L) {
            for (int k = 0; k < L; k++) {
                int even = base + k;
                int odd = 65535 - even;
                pairs[k] = (odd << 16) | even;
            }
            IntVector v = IntVector.fromArray(VectorMatVec.IS, pairs, 0);
            VectorMatVec.lo(v, bf16).intoArray(lo, 0);
            VectorMatVec.hi(v, bf16).intoArray(hi, 0);
            for (int k = 0; k < L; k++) {
                short e = (short) (pairs[k] & 0xFFFF);
                short o = (short) (pairs[k] >>> 16);
                float we = bf16 ? FloatCodec.bf16ToFloat(e) : Float.float16ToFloat(e);
                float wo = bf16 ? FloatCodec.bf16ToFloat(o) : Float.float16ToFloat(o);
                assertSame(we, lo[k], e);
                assertSame(wo, hi[k], o);
            }
        }
    }

    private static void assertSame(float want, float got, short bits) {
        if (Float.isNaN(want)) {
            assertEquals(true, Float.isNaN(got), "bits " + Integer.toHexString(bits & 0xFFFF));
        } else {
            assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(got),
                    "bits " + Integer.toHexString(bits & 0xFFFF) + ": " + want + " vs " + got);
        }
    }

    @Test
    void vectorF16WideningMatchesFloat16ToFloatForEveryBitPattern() {
        checkAll(false);
    }

    @Test
    void vectorBf16WideningMatchesScalarForEveryBitPattern() {
        checkAll(true);
    }

    @Test
    void bf16SpecialValues() {
        assertEquals(0f, FloatCodec.bf16ToFloat((short) 0));
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(FloatCodec.bf16ToFloat((short) 0x8000)));
        assertEquals(Float.POSITIVE_INFINITY, FloatCodec.bf16ToFloat((short) 0x7F80));
        assertEquals(Float.NEGATIVE_INFINITY, FloatCodec.bf16ToFloat((short) 0xFF80));
        assertEquals(true, Float.isNaN(FloatCodec.bf16ToFloat((short) 0x7FC0)));
        assertEquals(Float.MIN_VALUE * 65536, FloatCodec.bf16ToFloat((short) 1), "smallest subnormal");
        assertEquals(1.0f, FloatCodec.bf16ToFloat((short) 0x3F80));
        assertEquals(-2.0f, FloatCodec.bf16ToFloat((short) 0xC000));
        // Narrowing rounds to nearest even: 1 + 2^-8 is halfway between 1 and 1 + 2^-7.
        assertEquals((short) 0x3F80, FloatCodec.floatToBf16(1f + 0x1p-8f));
        assertEquals((short) 0x3F82, FloatCodec.floatToBf16(1f + 3 * 0x1p-8f));
        assertEquals(true, Float.isNaN(FloatCodec.bf16ToFloat(FloatCodec.floatToBf16(Float.NaN))));
        assertEquals((short) 0x7F80, FloatCodec.floatToBf16(Float.MAX_VALUE), "overflow rounds to infinity");
    }

    @Test
    void f16SpecialValues() {
        assertEquals(65504f, FloatCodec.f16ToFloat((short) 0x7BFF));
        assertEquals(0x1p-24f, FloatCodec.f16ToFloat((short) 1));
        assertEquals(Float.NEGATIVE_INFINITY, FloatCodec.f16ToFloat((short) 0xFC00));
        MemorySegment seg = MemorySegment.ofArray(new byte[2]);
        FloatCodec.set(seg, io.strata.core.model.DType.F16, 0, 1.5f);
        assertEquals(1.5f, FloatCodec.get(seg, io.strata.core.model.DType.F16, 0));
        assertEquals(FloatVector.SPECIES_PREFERRED.length(), L);
    }

    /**
     * The matvec kernels widen inside their loops (F16 rows through a buffer, BF16 in registers), not through
     * lo/hi: every half value, as weight row r = [value, 0, 0, ...] against x = [1, 0, ...], must come out exactly
     * (infinities and NaN included, since nothing else in the row multiplies them by zero).
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(value = io.strata.core.model.DType.class, names = {"F16", "BF16"})
    void kernelsWidenEveryHalfExactly(io.strata.core.model.DType dtype) {
        int cols = 4 * L;
        int rows = 65536;
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            MemorySegment seg = arena.allocate((long) rows * cols * 2, 64);
            for (int r = 0; r < rows; r++) {
                seg.set(FloatCodec.I16_LE, (long) r * cols * 2, (short) r);
            }
            var w = new io.strata.core.weights.TensorView("halves", seg, dtype, new long[] {rows, cols},
                    io.strata.core.model.Layout.ROW);
            float[] x = new float[cols];
            x[0] = 1f;
            float[] y = new float[rows];
            MatVec.vector().apply(w, x, y);
            for (int r = 0; r < rows; r++) {
                short bits = (short) r;
                float want = dtype == io.strata.core.model.DType.BF16 ? FloatCodec.bf16ToFloat(bits)
                        : Float.float16ToFloat(bits);
                // + 0 * 0 for the rest of the row: -0 becomes +0, as in any dot product
                assertSame(want == 0f ? 0f : want, y[r], bits);
            }
        }
    }
}
