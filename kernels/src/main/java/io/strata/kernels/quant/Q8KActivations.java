package io.strata.kernels.quant;

import java.lang.foreign.MemorySegment;
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
 * the sums of 16 codes, d = 1f / iscale.
 */
final class Q8KActivations {
    /** Bytes of one Q8_K block. */
    static final int BLOCK_BYTES = 292;
    /** Offset of the codes, and of the 16 bsums, in a block. */
    static final int QS = 4;
    static final int BSUMS = 260;

    static final VarHandle F32 = MethodHandles.byteArrayViewVarHandle(float[].class, ByteOrder.LITTLE_ENDIAN);
    static final VarHandle I16 = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);

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
