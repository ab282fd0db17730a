package io.strata.kernels.quant;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * The activation side of {@link KQuantInt8}: a float vector quantised to llama.cpp's Q8_K blocks (256 values: f32
 * d, int8 qs[256], int16 bsums[16], little-endian, {@value #BLOCK_BYTES} bytes, llama.cpp's block_q8_K layout), as
 * llama.cpp's {@code quantize_row_q8_K_ref} does it, so the integer dot products that follow see llama.cpp's
 * integers. Why in Java only: one implementation (the C kernels receive the quantised blocks), into a per-thread
 * buffer reused call after call (no allocation once it has grown to the widest input).
 *
 * <p>Per block: max = the first x of largest |x| (|x| compared with {@code >}, from amax = 0); if amax == 0, d = 0
 * and every code and bsum 0. Else iscale = -127f / max (float division), q = min(127, nearest(iscale * x)) with
 * nearest the round-half-to-even of the float product (llama.cpp's nearest_int: the same for |v| < 2^22), bsums
 * the sums of 16 codes, d = 1f / iscale. Vector lanes where the platform has 256 bits or more (the same bits:
 * a block of finite values, not all zero, finds the same first max and rounds each product the same way; other
 * blocks take the per-element form).
 */
final class Q8KActivations {
    /** Bytes of one Q8_K block. */
    static final int BLOCK_BYTES = 292;
    /** Offset of the codes, and of the 16 bsums, in a block. */
    static final int QS = 4;
    static final int BSUMS = 260;

    static final VarHandle F32 = MethodHandles.byteArrayViewVarHandle(float[].class, ByteOrder.LITTLE_ENDIAN);
    static final VarHandle I16 = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);

    /** The vector form's species: whole 16-code groups (512 bits, or 256 and two per group). */
    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED.length() >= 16
            ? FloatVector.SPECIES_512 : FloatVector.SPECIES_256;
    private static final boolean VECTOR = FloatVector.SPECIES_PREFERRED.length() >= 8;
    private static final float ROUND = 12582912f;
    private static final VectorSpecies<Byte> BS = FS.length() == 16 ? ByteVector.SPECIES_128 : ByteVector.SPECIES_64;

    private static final ThreadLocal<Buffer> BUFFER = ThreadLocal.withInitial(Buffer::new);

    private Q8KActivations() {
    }

    /** A thread's quantised-activation buffer: a byte array and its heap segment (made once per growth). */
    static final class Buffer {
        private byte[] bytes = new byte[0];
        private MemorySegment segment = MemorySegment.ofArray(bytes);
        private final SeenInputs seen = new SeenInputs();

        /** The inputs now quantised in this buffer. */
        SeenInputs seen() {
            return seen;
        }

        /** The buffer, at least n bytes long (contents undefined). */
        byte[] bytes(int n) {
            if (bytes.length < n) {
                bytes = new byte[Math.max(n, bytes.length + bytes.length / 2)];
                segment = MemorySegment.ofArray(bytes);
                seen.forget();
            }
            return bytes;
        }

        /** The heap segment over {@link #bytes}'s current array. */
        MemorySegment segment() {
            return segment;
        }
    }

    /** This thread's buffer. */
    static Buffer buffer() {
        return BUFFER.get();
    }

    /** x[xOff, xOff + 256 nb) as nb Q8_K blocks into dst from byte dstOff. */
    static void quantize(float[] x, int xOff, int nb, byte[] dst, int dstOff) {
        for (int b = 0; b < nb; b++) {
            block(x, xOff + 256 * b, dst, dstOff + BLOCK_BYTES * b);
        }
    }

    private static void block(float[] x, int o, byte[] dst, int p) {
        if (!VECTOR) {
            blockScalar(x, o, dst, p);
            return;
        }
        FloatVector av = FloatVector.zero(FS);
        for (int j = 0; j < 256; j += FS.length()) {
            av = av.max(FloatVector.fromArray(FS, x, o + j).abs());
        }
        float amax = av.reduceLanes(VectorOperators.MAX);
        if (!(amax > 0f) || amax == Float.POSITIVE_INFINITY) { // zeros, NaN or infinities: the scalar form's
            blockScalar(x, o, dst, p);                            // comparisons decide
            return;
        }
        float max = 0f;
        for (int j = 0; j < 256; j += FS.length()) { // the first x of largest |x|
            FloatVector v = FloatVector.fromArray(FS, x, o + j);
            VectorMask<Float> hit = v.abs().compare(VectorOperators.EQ, amax);
            if (hit.anyTrue()) {
                max = x[o + j + hit.firstTrue()];
                break;
            }
        }
        float iscale = -127f / max;
        if (!Float.isFinite(iscale)) { // a block of subnormals: the scalar form's infinities
            blockScalar(x, o, dst, p);
            return;
        }
        for (int g = 0; g < 16; g++) {
            int sum = 0;
            for (int j = 16 * g; j < 16 * g + 16; j += FS.length()) {
                // round half to even: for |v| <= 127, (v + 1.5 * 2^23) - 1.5 * 2^23 is Math.rint(v)
                FloatVector v = FloatVector.fromArray(FS, x, o + j).mul(iscale).add(ROUND).sub(ROUND);
                IntVector q = ((IntVector) v.convert(VectorOperators.F2I, 0)).min(127);
                sum += q.reduceLanes(VectorOperators.ADD);
                ((ByteVector) q.convertShape(VectorOperators.I2B, BS, 0)).intoArray(dst, p + QS + j);
            }
            I16.set(dst, p + BSUMS + 2 * g, (short) sum);
        }
        F32.set(dst, p, 1f / iscale);
    }

    /** {@link #quantize} in the per-element form only (the vector form's reference, for tests). */
    static void quantizeScalar(float[] x, int xOff, int nb, byte[] dst, int dstOff) {
        for (int b = 0; b < nb; b++) {
            blockScalar(x, xOff + 256 * b, dst, dstOff + BLOCK_BYTES * b);
        }
    }

    /** The per-element form (and the one for blocks holding only zeros, NaN or infinities). */
    private static void blockScalar(float[] x, int o, byte[] dst, int p) {
        float max = 0f;
        float amax = 0f;
        for (int j = 0; j < 256; j++) {
            float v = x[o + j];
            float ax = Math.abs(v);
            if (ax > amax) {
                amax = ax;
                max = v;
            }
        }
        if (amax == 0f) {
            F32.set(dst, p, 0f);
            java.util.Arrays.fill(dst, p + QS, p + BLOCK_BYTES, (byte) 0);
            return;
        }
        float iscale = -127f / max;
        for (int g = 0; g < 16; g++) {
            int sum = 0;
            for (int j = 16 * g; j < 16 * g + 16; j++) {
                int v = Math.min(127, (int) Math.rint(iscale * x[o + j]));
                dst[p + QS + j] = (byte) v;
                sum += v;
            }
            I16.set(dst, p + BSUMS + 2 * g, (short) sum);
        }
        F32.set(dst, p, 1f / iscale);
    }
}
