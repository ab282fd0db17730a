package io.strata.kernels.quant;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The activation vector x quantised to 8 bits per block of 32, as llama.cpp's CPU backend quantises it for the
 * legacy block types ({@link LegacyInt8}): why a class of its own — one implementation, in Java, whose bytes both
 * the Java and the native kernels read, so the two can only differ in the (exact) integer sums.
 *
 * <p>The numbers are those of ggml's {@code quantize_row_q8_0_ref} / {@code quantize_row_q8_1_ref}, per block of
 * 32 elements x_j: {@code amax = max |x_j|} (from 0f), {@code d = amax / 127f}, {@code id = d != 0 ? 1f / d : 0f},
 * {@code q_j = roundf(x_j * id)} (half away from zero), the stored scale is {@code f16(d)} (round to nearest even)
 * and Q8_1's sum is {@code s = f16((float) sum_j q_j * d)} (d unrounded). x is expected finite (a NaN or infinity
 * gives unspecified codes; Java and native still agree, as both read these bytes).
 *
 * <p>The layout is ours, not block_q8_0's (the kernels want the codes in vector-friendly order), per input:
 * <ul>
 * <li>codes, 32 bytes per block, blocks padded with zero codes to a multiple of 16, grouped by 4 blocks (128
 *   bytes per group): block {@code b = 4g + k}, element {@code j < 16} at byte {@code 128g + 16k + j}, element
 *   {@code j >= 16} at {@code 128g + 64 + 16k + j - 16}, so one 64-byte vector holds the first halves of 4 blocks,
 *   the next their second halves, as 4 nibble blocks unpack ({@link #code});</li>
 * <li>{@code dx[b]}: f16(d) as a float, at {@link #dOffset}; {@code sx[b]}: Q8_1's f16 s as a float, at
 *   {@link #sOffset}; {@code xs[b]}: the int sum of the block's codes, at {@link #sumOffset}; each array padded to a
 *   multiple of 16 entries.</li>
 * </ul>
 * Q8_0 and Q8_1 share d and the codes exactly, so one quantisation serves every legacy type.
 */
final class Q8Activations {
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** 16 float lanes where the machine has them (two vectors per block), else 8 (four). */
    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED.length() >= 16
            ? FloatVector.SPECIES_512 : FloatVector.SPECIES_256;
    private static final int L = FS.length();
    private static final VectorSpecies<Integer> IS = VectorSpecies.of(int.class, FS.vectorShape());
    private static final VectorSpecies<Byte> BS = VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8));

    private Q8Activations() {
    }

    private static long pad16(int nb) {
        return (nb + 15L) & ~15L;
    }

    /** Bytes of the codes of nb blocks (a multiple of 16 blocks, so 16-block vector groups never run past). */
    static long codeBytes(int nb) {
        return pad16(nb) * 32;
    }

    static long dOffset(int nb) {
        return codeBytes(nb);
    }

    static long sOffset(int nb) {
        return dOffset(nb) + pad16(nb) * 4;
    }

    static long sumOffset(int nb) {
        return sOffset(nb) + pad16(nb) * 4;
    }

    /** Bytes one quantised input of nb blocks takes (a multiple of 64). */
    static long inputBytes(int nb) {
        return sumOffset(nb) + pad16(nb) * 4;
    }

    /** Byte offset of element j (0..31) of block b among the codes (grouped by four blocks' halves). */
    static long code(int b, int j) {
        return 128L * (b >> 2) + 16 * (b & 3) + (j < 16 ? j : 48 + j);
    }

    /** roundf: to nearest, halves away from zero (|v| well inside int range). */
    static int roundf(float v) {
        float a = Math.abs(v);
        int t = (int) a;
        int q = t + (a - t >= 0.5f ? 1 : 0);
        return v < 0 ? -q : q;
    }

    /**
     * Quantises x[xOff, xOff + 32 nb) into the input at byte {@code base} of {@code dst} (layout above; the
     * padding codes and entries are written as zeros). Vectorised; the same numbers as {@link #referenceBlock}.
     */
    static void quantize(float[] x, int xOff, int nb, MemorySegment dst, long base) {
        long dOff = base + dOffset(nb);
        long sOff = base + sOffset(nb);
        long iOff = base + sumOffset(nb);
        FloatVector half = FloatVector.broadcast(FS, 0.5f);
        for (int b = 0; b < nb; b++) {
            int xb = xOff + 32 * b;
            FloatVector m = FloatVector.zero(FS);
            for (int j = 0; j < 32; j += L) {
                m = m.max(FloatVector.fromArray(FS, x, xb + j).abs());
            }
            float amax = m.reduceLanes(VectorOperators.MAX); // ggml's MAX(amax, fabsf(v)) for finite x
            float d = amax / 127f;
            float id = d != 0f ? 1f / d : 0f;
            FloatVector idv = FloatVector.broadcast(FS, id);
            IntVector sum = IntVector.zero(IS);
            for (int j = 0; j < 32; j += L) {
                FloatVector v = FloatVector.fromArray(FS, x, xb + j).mul(idv);
                FloatVector a = v.abs();
                IntVector t = (IntVector) a.convert(VectorOperators.F2I, 0);
                FloatVector frac = a.sub((FloatVector) t.convert(VectorOperators.I2F, 0)); // exact
                IntVector q = t.add(1, frac.compare(VectorOperators.GE, half).cast(IS));
                q = q.lanewise(VectorOperators.NEG, v.compare(VectorOperators.LT, 0f).cast(IS));
                sum = sum.add(q);
                ((ByteVector) q.convertShape(VectorOperators.I2B, BS, 0)).intoMemorySegment(dst,
                        base + code(b, j), ByteOrder.LITTLE_ENDIAN);
            }
            int s = sum.reduceLanes(VectorOperators.ADD);
            dst.set(F32, dOff + 4L * b, Float.float16ToFloat(Float.floatToFloat16(d)));
            dst.set(F32, sOff + 4L * b, Float.float16ToFloat(Float.floatToFloat16((float) s * d)));
            dst.set(I32, iOff + 4L * b, s);
        }
        // padding: zero codes of the missing blocks up to a multiple of 16, and zero entries
        long pad = pad16(nb);
        for (int b = nb; b < pad; b++) {
            for (int h = 0; h < 2; h++) {
                dst.asSlice(base + code(b, 16 * h), 16).fill((byte) 0);
            }
            dst.set(F32, dOff + 4L * b, 0f);
            dst.set(F32, sOff + 4L * b, 0f);
            dst.set(I32, iOff + 4L * b, 0);
        }
    }

    /** Reference (scalar, straight from the C) of one block's codes, d and s, for tests: {q_0..q_31, d bits, s bits}. */
    static int[] referenceBlock(float[] x, int off) {
        float amax = 0f;
        for (int j = 0; j < 32; j++) {
            float av = Math.abs(x[off + j]);
            amax = amax > av ? amax : av;
        }
        float d = amax / 127;
        float id = d != 0 ? 1.0f / d : 0.0f;
        int[] r = new int[34];
        int sum = 0;
        for (int j = 0; j < 32; j++) {
            r[j] = roundf(x[off + j] * id);
            sum += r[j];
        }
        r[32] = Float.floatToFloat16(d);
        r[33] = Float.floatToFloat16(sum * d);
        return r;
    }

    /** A thread's reusable off-heap buffer for quantised inputs (grown, never shrunk). */
    static final class Buffer {
        private MemorySegment seg = MemorySegment.NULL;

        MemorySegment get(long bytes) {
            if (seg.byteSize() < bytes) {
                seg = Arena.ofAuto().allocate(Math.max(bytes, 2 * seg.byteSize()), 64);
            }
            return seg;
        }
    }
}
