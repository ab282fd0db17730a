package io.strata.kernels.quant;

import java.util.Locale;
import java.util.Optional;

/**
 * How a matvec over block-quantised (ggml) weights does its arithmetic. Why two: the float form is exact to the
 * dequantised weights (a PyTorch forward over them agrees to ~1e-6), but unpacking codes to float lanes costs more
 * than reading them, so it runs at a fraction of the memory bandwidth; the int8 form is llama.cpp's CPU arithmetic
 * (its {@code vec_dot_type}): the activations are quantised to 8 bits per block as well and each block's dot
 * product is an exact integer sum, scaled once in float, fast enough to be memory-bound, and the arithmetic
 * llama.cpp's own logits come from. Both are deterministic and give the same bits on the Java and the native
 * kernels, for one input or a batch; except int8's K-quant batches on a CPU with AMX-INT8, which run a tile form
 * whose float order differs ({@link io.strata.kernels.cpu.NativeKQuantInt8}: a prompt agrees with decode to
 * rounding, about 1e-7 relative per matvec).
 */
public enum QuantArithmetic {
    /** x stays float; each block is dequantised into the float dot product (the exact reference). */
    FLOAT,
    /**
     * x quantised per block to int8 as llama.cpp does (Q8_0 blocks for Q4_0/Q5_0/Q8_0, Q8_1 for Q4_1/Q5_1, Q8_K
     * super-blocks for the K-quants); integer block dot products, one float scale per block. Types without an
     * int8 kernel (see {@link QuantMatVec#int8Types()}) use {@link #FLOAT}.
     */
    INT8;

    /**
     * The default: {@link #INT8} where its native kernels run (AVX-512 VNNI and VBMI, the native library built,
     * native kernels selected), else {@link #FLOAT}. Why not int8 everywhere: its Java kernels are 2-5x slower than
     * the Java float kernels (integer dot products of bytes have no fast Vector API form), so where the native
     * kernels cannot run, int8 would cost speed and buy nothing but llama.cpp's rounding. The choice is made when
     * asked (the CPU kernels can be switched at run time) and {@code --quant-arithmetic} fixes it.
     */
    public static QuantArithmetic preferred() {
        return QuantMatVec.int8Native() ? INT8 : FLOAT;
    }

    /** {@code float}, {@code int8}, or {@code auto} ({@link #preferred()}), any case. */
    public static Optional<QuantArithmetic> parse(String s) {
        return switch (s.trim().toLowerCase(Locale.ROOT)) {
            case "float", "f32" -> Optional.of(FLOAT);
            case "int8", "q8" -> Optional.of(INT8);
            case "auto" -> Optional.of(preferred());
            default -> Optional.empty();
        };
    }

    /** The name the CLI takes. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
