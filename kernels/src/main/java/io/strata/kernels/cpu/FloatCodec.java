package io.strata.kernels.cpu;

import io.strata.core.model.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Scalar conversions between stored element types and float. Checkpoint bytes are little-endian (safetensors);
 * these are the reference definitions the vector kernels are tested against.
 */
public final class FloatCodec {
    public static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private FloatCodec() {
    }

    /** bfloat16 is the top half of a float32: widening is exact. */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** Round-to-nearest-even narrowing (NaN stays a quiet NaN), as torch does. */
    public static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        int rounding = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    public static float f16ToFloat(short bits) {
        return Float.float16ToFloat(bits);
    }

    public static short floatToF16(float f) {
        return Float.floatToFloat16(f);
    }

    /** Element {@code index} of a float tensor stored as {@code dtype} (F32, F16 or BF16). */
    public static float get(MemorySegment data, DType dtype, long index) {
        return switch (dtype) {
            case F32 -> data.get(F32_LE, index * 4);
            case BF16 -> bf16ToFloat(data.get(I16_LE, index * 2));
            case F16 -> f16ToFloat(data.get(I16_LE, index * 2));
            default -> throw new IllegalArgumentException("not a float tensor type for decoding: " + dtype);
        };
    }

    /** Writes {@code value} as element {@code index} in {@code dtype} (F32, F16 or BF16). */
    public static void set(MemorySegment data, DType dtype, long index, float value) {
        switch (dtype) {
            case F32 -> data.set(F32_LE, index * 4, value);
            case BF16 -> data.set(I16_LE, index * 2, floatToBf16(value));
            case F16 -> data.set(I16_LE, index * 2, floatToF16(value));
            default -> throw new IllegalArgumentException("not a float tensor type for encoding: " + dtype);
        }
    }

    /** Decodes {@code count} consecutive elements starting at element {@code from} into {@code out[outOff..]}. */
    public static void decode(MemorySegment data, DType dtype, long from, float[] out, int outOff, int count) {
        for (int i = 0; i < count; i++) {
            out[outOff + i] = get(data, dtype, from + i);
        }
    }
}
