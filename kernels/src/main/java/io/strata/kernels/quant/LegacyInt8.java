package io.strata.kernels.quant;

import io.strata.core.model.DType;
import io.strata.kernels.cpu.NativeLegacyInt8;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Matvecs of the legacy block types (Q8_0, Q4_0, Q5_0, Q4_1, Q5_1) in llama.cpp's CPU arithmetic: x is quantised
 * to 8 bits per block of 32 ({@link Q8Activations}: Q8_0's numbers; Q8_1's sum for Q4_1/Q5_1) and each weight
 * block's dot product with it is an exact integer. Why: dequantising into float arithmetic ({@link BlockDot})
 * spends more time unpacking than the memory takes to stream the weights; integer dot products (AVX-512 VNNI in
 * the native twin, {@code strata_lq8.c} via {@link NativeLegacyInt8}) keep up, and they are the arithmetic
 * llama.cpp's logits come from.
 *
 * <p>The canonical arithmetic, per row r and weight block b (codes w_j, f16 scale dw, Q4_1/Q5_1's f16 min mw; the
 * quantised input block's codes q_j, float scale dx = f16(d), Q8_1 sum sx = f16(s), code sum xs):
 * <ul>
 * <li>{@code isum_b} = sum over j of v_j * q_j, exact, where v_j is the weight's signed value: Q8_0 the code,
 *   Q4_0 nibble - 8, Q5_0 (nibble | high bit << 4) - 16, Q4_1 nibble, Q5_1 nibble | high bit << 4 (element j < 16
 *   the low nibble of byte j, j >= 16 the high nibble of byte j - 16; the high bit of element j is bit j of qh);
 * <li>Q8_0/Q4_0/Q5_0: {@code t_b = (float) isum_b * (dw * dx)}; Q4_1/Q5_1: {@code t_b = (float) isum_b * (dw * dx)
 *   + mw * sx} (the product, then the min term, then their sum; every operation a float one, no fma);
 * <li>16 accumulators from +0f: {@code acc[b % 16] += t_b} in increasing b;
 * <li>{@code y_r = ((0f + acc[0]) + acc[1]) + ... + acc[15]}.
 * </ul>
 * Any way of computing isum gives the same int (|isum| < 2^20, exact as a float too), so the native kernel sums
 * bytes with vpdpbusd (unsigned x signed: Q8_0's codes biased by +128 and 128 * xs taken off, the nibble types'
 * offsets 8/16 likewise as 8 * xs / 16 * xs) and reduces 16 blocks' sums into one vector for the float part,
 * which is the lanes above; the Java widens bytes to short (Q8_0) or int lanes and reduces each block. A batch
 * ({@link #batch}) quantises each input exactly as {@link #rows} does and runs the same per-row arithmetic (the
 * native one on a tile of rows unpacked once for all inputs), so each output has the same bits. {@link #rows}
 * keeps the last x it quantised per thread and reuses the codes for a bit-equal x (row ranges of one matvec,
 * gate and up).
 */
final class LegacyInt8 {
    private static final VectorSpecies<Integer> IS = VectorSpecies.of(int.class, BlockDot.FS.vectorShape());
    private static final int L = IS.length();
    private static final VectorSpecies<Byte> BS = VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8));
    private static final VectorSpecies<Short> SS = VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16));
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfInt I32 = Q8Activations.I32;
    private static final ValueLayout.OfFloat F32 = Q8Activations.F32;
    private static final int[] IOTA = new int[64];
    /** Rows per tile of the Java batch: a tile's weights stay in cache while every input passes over them. */
    private static final long TILE_BYTES = 128 * 1024;

    static {
        for (int i = 0; i < IOTA.length; i++) {
            IOTA[i] = i;
        }
    }

    /**
     * A thread's buffers: the single form's quantised input with a copy of the x it came from (a matvec split
     * into row ranges, or gate and up, passes the same x again: bit-equal x, bit-equal codes), the batch form's
     * inputs, the Java kernels' accumulators.
     */
    private static final class Scratch {
        final Q8Activations.Buffer single = new Q8Activations.Buffer();
        final Q8Activations.Buffer many = new Q8Activations.Buffer();
        final SeenInputs singleSeen = new SeenInputs();
        final SeenInputs manySeen = new SeenInputs();
        final float[] acc = new float[16];
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private LegacyInt8() {
    }

    /** Whether this class has an int8-activation kernel for t. */
    static boolean supports(DType t) {
        return switch (t) {
            case Q8_0, Q4_0, Q5_0, Q4_1, Q5_1 -> true;
            default -> false;
        };
    }

    /** y[yOff + r] = row r . x[xOff ..] for r in [from, to), in this arithmetic; quantises x itself. */
    static void rows(DType t, MemorySegment w, long rowBytes, int nb, float[] x, int xOff, float[] y, int yOff,
                     int from, int to) {
        if (from == to) {
            return;
        }
        Scratch s = SCRATCH.get();
        long ib = Q8Activations.inputBytes(nb);
        MemorySegment q = s.single.get(ib);
        int cols = 32 * nb;
        if (!s.singleSeen.same(x, xOff, 0, 1, cols)) {
            s.singleSeen.forget();
            Q8Activations.quantize(x, xOff, nb, q, 0);
            s.singleSeen.remember(x, xOff, 0, 1, cols);
        }
        if (NativeLegacyInt8.enabled()
                && NativeLegacyInt8.run(t, w, rowBytes, nb, q, ib, 1, y, yOff, 0, from, to)) {
            return;
        }
        java(t, w, rowBytes, nb, q, 0, y, yOff, from, to, s.acc);
    }

    /** count inputs x[xOff + i*xStride ..] -> y[yOff + i*yStride + r]; each bit-identical to rows(...) on it. */
    static void batch(DType t, MemorySegment w, long rowBytes, int nb, float[] x, int xOff, int xStride, int count,
                      float[] y, int yOff, int yStride, int from, int to) {
        if (from == to || count == 0) {
            return;
        }
        Scratch s = SCRATCH.get();
        long ib = Q8Activations.inputBytes(nb);
        MemorySegment q = s.many.get(ib * count);
        int cols = 32 * nb;
        if (!s.manySeen.same(x, xOff, xStride, count, cols)) {
            s.manySeen.forget(); // a row range of the same batch on this thread (worker team chunks) reuses the codes
            for (int i = 0; i < count; i++) {
                Q8Activations.quantize(x, xOff + i * xStride, nb, q, i * ib);
            }
            s.manySeen.remember(x, xOff, xStride, count, cols);
        }
        if (NativeLegacyInt8.enabled()
                && NativeLegacyInt8.run(t, w, rowBytes, nb, q, ib, count, y, yOff, yStride, from, to)) {
            return;
        }
        int tile = (int) Math.max(1, Math.min(to - from, TILE_BYTES / rowBytes));
        for (int r0 = from; r0 < to; r0 += tile) {
            int r1 = Math.min(to, r0 + tile);
            for (int i = 0; i < count; i++) {
                java(t, w, rowBytes, nb, q, i * ib, y, yOff + i * yStride, r0, r1, s.acc);
            }
        }
    }

    /** The Java kernels on the quantised input at byte {@code qb} of {@code q}. */
    static void java(DType t, MemorySegment w, long rowBytes, int nb, MemorySegment q, long qb, float[] y, int yOff,
                     int from, int to, float[] acc) {
        switch (t) {
            case Q8_0 -> q8_0(w, rowBytes, nb, q, qb, y, yOff, from, to, acc);
            case Q4_0 -> q4_0(w, rowBytes, nb, q, qb, y, yOff, from, to, acc);
            case Q5_0 -> q5_0(w, rowBytes, nb, q, qb, y, yOff, from, to, acc);
            case Q4_1 -> q4_1(w, rowBytes, nb, q, qb, y, yOff, from, to, acc);
            case Q5_1 -> q5_1(w, rowBytes, nb, q, qb, y, yOff, from, to, acc);
            default -> throw new IllegalArgumentException("no int8-activation matvec for " + t);
        }
    }

    /** L signed bytes as short lanes. */
    private static ShortVector s16(MemorySegment s, long p) {
        return (ShortVector) ByteVector.fromMemorySegment(BS, s, p, LE).convertShape(VectorOperators.B2S, SS, 0);
    }

    /** L unsigned bytes as short lanes. */
    private static ShortVector u16(MemorySegment s, long p) {
        return (ShortVector) ByteVector.fromMemorySegment(BS, s, p, LE)
                .convertShape(VectorOperators.ZERO_EXTEND_B2S, SS, 0);
    }

    /** The exact sum of short lanes (each |lane| < 2^15), widened to int lanes first. */
    private static int sum(ShortVector v) {
        return ((IntVector) v.convertShape(VectorOperators.S2I, IS, 0)).reduceLanes(VectorOperators.ADD);
    }

    private static IntVector signed(MemorySegment s, long p) {
        return (IntVector) ByteVector.fromMemorySegment(BS, s, p, LE).convertShape(VectorOperators.B2I, IS, 0);
    }

    private static IntVector unsigned(MemorySegment s, long p) {
        return (IntVector) ByteVector.fromMemorySegment(BS, s, p, LE)
                .convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0);
    }

    /** Bits from .. from+L-1 of word, each moved to bit 4 of its lane. */
    private static IntVector high(int word, int from) {
        return IntVector.broadcast(IS, word).lanewise(VectorOperators.LSHR, IntVector.fromArray(IS, IOTA, from))
                .and(1).lanewise(VectorOperators.LSHL, 4);
    }

    private static float finish(float[] acc) {
        float sum = 0f;
        for (int k = 0; k < 16; k++) {
            sum += acc[k];
        }
        return sum;
    }

    private static void q8_0(MemorySegment w, long rowBytes, int nb, MemorySegment q, long qb, float[] y, int yOff,
                             int from, int to, float[] acc) {
        long dOff = qb + Q8Activations.dOffset(nb);
        for (int r = from; r < to; r++) {
            Arrays.fill(acc, 0f);
            long off = r * rowBytes;
            for (int b = 0; b < nb; b++) {
                long p = off + 34L * b;
                long c = qb + Q8Activations.code(b, 0);
                // per lane two products of at most 128 * 127: the short sum is exact
                int isum = 0;
                for (int j = 0; j < 16; j += L) {
                    isum += sum(s16(w, p + 2 + j).mul(s16(q, c + j)).add(s16(w, p + 18 + j).mul(s16(q, c + 64 + j))));
                }
                acc[b & 15] += (float) isum * (Dequantize.f16(w, p) * q.get(F32, dOff + 4L * b));
            }
            y[yOff + r] = finish(acc);
        }
    }

    private static void q4_0(MemorySegment w, long rowBytes, int nb, MemorySegment q, long qb, float[] y, int yOff,
                             int from, int to, float[] acc) {
        long dOff = qb + Q8Activations.dOffset(nb);
        long iOff = qb + Q8Activations.sumOffset(nb);
        for (int r = from; r < to; r++) {
            Arrays.fill(acc, 0f);
            long off = r * rowBytes;
            for (int b = 0; b < nb; b++) {
                long p = off + 18L * b;
                long c = qb + Q8Activations.code(b, 0);
                IntVector v = IntVector.zero(IS);
                for (int j = 0; j < 16; j += L) {
                    IntVector n = unsigned(w, p + 2 + j);
                    v = v.add(n.and(0x0F).mul(signed(q, c + j)))
                            .add(n.lanewise(VectorOperators.LSHR, 4).mul(signed(q, c + 64 + j)));
                }
                int isum = v.reduceLanes(VectorOperators.ADD) - 8 * q.get(I32, iOff + 4L * b);
                acc[b & 15] += (float) isum * (Dequantize.f16(w, p) * q.get(F32, dOff + 4L * b));
            }
            y[yOff + r] = finish(acc);
        }
    }

    private static void q5_0(MemorySegment w, long rowBytes, int nb, MemorySegment q, long qb, float[] y, int yOff,
                             int from, int to, float[] acc) {
        long dOff = qb + Q8Activations.dOffset(nb);
        long iOff = qb + Q8Activations.sumOffset(nb);
        for (int r = from; r < to; r++) {
            Arrays.fill(acc, 0f);
            long off = r * rowBytes;
            for (int b = 0; b < nb; b++) {
                long p = off + 22L * b;
                long c = qb + Q8Activations.code(b, 0);
                int qh = w.get(I32, p + 2);
                IntVector v = IntVector.zero(IS);
                for (int j = 0; j < 16; j += L) {
                    IntVector n = unsigned(w, p + 6 + j);
                    v = v.add(n.and(0x0F).or(high(qh, j)).mul(signed(q, c + j)))
                            .add(n.lanewise(VectorOperators.LSHR, 4).or(high(qh, 16 + j)).mul(signed(q, c + 64 + j)));
                }
                int isum = v.reduceLanes(VectorOperators.ADD) - 16 * q.get(I32, iOff + 4L * b);
                acc[b & 15] += (float) isum * (Dequantize.f16(w, p) * q.get(F32, dOff + 4L * b));
            }
            y[yOff + r] = finish(acc);
        }
    }

    private static void q4_1(MemorySegment w, long rowBytes, int nb, MemorySegment q, long qb, float[] y, int yOff,
                             int from, int to, float[] acc) {
        long dOff = qb + Q8Activations.dOffset(nb);
        long sOff = qb + Q8Activations.sOffset(nb);
        for (int r = from; r < to; r++) {
            Arrays.fill(acc, 0f);
            long off = r * rowBytes;
            for (int b = 0; b < nb; b++) {
                long p = off + 20L * b;
                long c = qb + Q8Activations.code(b, 0);
                IntVector v = IntVector.zero(IS);
                for (int j = 0; j < 16; j += L) {
                    IntVector n = unsigned(w, p + 4 + j);
                    v = v.add(n.and(0x0F).mul(signed(q, c + j)))
                            .add(n.lanewise(VectorOperators.LSHR, 4).mul(signed(q, c + 64 + j)));
                }
                int isum = v.reduceLanes(VectorOperators.ADD);
                float a = (float) isum * (Dequantize.f16(w, p) * q.get(F32, dOff + 4L * b));
                float m = Dequantize.f16(w, p + 2) * q.get(F32, sOff + 4L * b);
                acc[b & 15] += a + m;
            }
            y[yOff + r] = finish(acc);
        }
    }

    private static void q5_1(MemorySegment w, long rowBytes, int nb, MemorySegment q, long qb, float[] y, int yOff,
                             int from, int to, float[] acc) {
        long dOff = qb + Q8Activations.dOffset(nb);
        long sOff = qb + Q8Activations.sOffset(nb);
        for (int r = from; r < to; r++) {
            Arrays.fill(acc, 0f);
            long off = r * rowBytes;
            for (int b = 0; b < nb; b++) {
                long p = off + 24L * b;
                long c = qb + Q8Activations.code(b, 0);
                int qh = w.get(I32, p + 4);
                IntVector v = IntVector.zero(IS);
                for (int j = 0; j < 16; j += L) {
                    IntVector n = unsigned(w, p + 8 + j);
                    v = v.add(n.and(0x0F).or(high(qh, j)).mul(signed(q, c + j)))
                            .add(n.lanewise(VectorOperators.LSHR, 4).or(high(qh, 16 + j)).mul(signed(q, c + 64 + j)));
                }
                int isum = v.reduceLanes(VectorOperators.ADD);
                float a = (float) isum * (Dequantize.f16(w, p) * q.get(F32, dOff + 4L * b));
                float m = Dequantize.f16(w, p + 2) * q.get(F32, sOff + 4L * b);
                acc[b & 15] += a + m;
            }
            y[yOff + r] = finish(acc);
        }
    }
}
