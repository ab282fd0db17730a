package io.strata.kernels.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link Q8KActivations#quantize}'s vector form gives the per-element form's bytes for every kind of block: random
 * magnitudes over 40 binades, ties for the largest |x| (the first wins, negative or positive), products landing
 * on .5 (half to even), signed zeros, all-zero, subnormal-only (whose scale overflows), infinite and NaN blocks,
 * and offsets that are not a multiple of the vector length.
 */
class Q8KActivationsTest {
    @Test
    void vectorFormGivesThePerElementBytes() {
        Random rnd = new Random(5);
        int nb = 3;
        for (int trial = 0; trial < 600; trial++) {
            int off = rnd.nextInt(5);
            float[] x = KQuantInt8Test.input(rnd, off + 256 * nb);
            int kind = trial % 10;
            int b = rnd.nextInt(nb);
            int o = off + 256 * b;
            switch (kind) {
                case 1 -> { // a tie for the largest |x|, the second of opposite sign
                    float m = 1000f;
                    x[o + 3 + rnd.nextInt(100)] = rnd.nextBoolean() ? m : -m;
                    x[o + 150 + rnd.nextInt(100)] = rnd.nextBoolean() ? m : -m;
                }
                case 2 -> { // -127 / max exact and products on .5: codes k + 0.5
                    x[o] = -127f;
                    for (int j = 1; j < 256; j++) {
                        x[o + j] = (rnd.nextInt(253) - 126) + 0.5f;
                    }
                }
                case 3 -> Arrays.fill(x, o, o + 256, rnd.nextBoolean() ? 0f : -0f);
                case 4 -> { // subnormals only
                    for (int j = 0; j < 256; j++) {
                        x[o + j] = Float.MIN_VALUE * rnd.nextInt(1000) * (rnd.nextBoolean() ? 1 : -1);
                    }
                }
                case 5 -> x[o + rnd.nextInt(256)] = rnd.nextBoolean() ? Float.POSITIVE_INFINITY
                        : Float.NEGATIVE_INFINITY;
                case 6 -> x[o + rnd.nextInt(256)] = Float.NaN;
                default -> { }
            }
            byte[] want = new byte[nb * Q8KActivations.BLOCK_BYTES + 7];
            byte[] got = new byte[want.length];
            Q8KActivations.quantizeScalar(x, off, nb, want, 7);
            Q8KActivations.quantize(x, off, nb, got, 7);
            assertArrayEquals(want, got, "trial " + trial + " (kind " + kind + ", block " + b + ")");
        }
    }
}
