package io.strata.kernels.cpu;

/**
 * Rotary position embedding. Rotate-half (HF Llama/Mixtral/Qwen, llama.cpp's NEOX): for i < d/2, the pair
 * (v[i], v[i+d/2]) is rotated by angle pos * theta^(-2i/d). Interleaved (llama.cpp's NORM, for the q/k rows a GGUF
 * of arch {@code llama} stores permuted): the pair (v[2i], v[2i+1]) by the same angle. Frequencies are computed in
 * float32 as torch does.
 */
public final class Rope {
    private final int headDim;
    private final float[] invFreq;
    private final boolean interleaved;

    public Rope(int headDim, double theta) {
        this(headDim, theta, false);
    }

    public Rope(int headDim, double theta, boolean interleaved) {
        this.interleaved = interleaved;
        if (headDim <= 0 || (headDim & 1) != 0) {
            throw new IllegalArgumentException("RoPE head_dim must be positive and even, got " + headDim);
        }
        this.headDim = headDim;
        this.invFreq = new float[headDim / 2];
        for (int i = 0; i < headDim / 2; i++) {
            float exponent = (float) (2 * i) / headDim;
            invFreq[i] = (float) (1.0 / Math.pow(theta, exponent));
        }
    }

    public boolean interleaved() {
        return interleaved;
    }

    public int headDim() {
        return headDim;
    }

    /** cos/sin of every frequency at {@code pos} (arrays of headDim/2). */
    public void angles(int pos, float[] cos, float[] sin) {
        for (int i = 0; i < invFreq.length; i++) {
            float a = pos * invFreq[i];
            cos[i] = (float) Math.cos(a);
            sin[i] = (float) Math.sin(a);
        }
    }

    /** Rotates {@code heads} consecutive heads of v (starting at v[off]) in place. */
    public void apply(float[] v, int off, int heads, float[] cos, float[] sin) {
        int half = headDim / 2;
        if (interleaved) {
            for (int h = 0; h < heads; h++) {
                int b = off + h * headDim;
                for (int i = 0; i < half; i++) {
                    float x1 = v[b + 2 * i];
                    float x2 = v[b + 2 * i + 1];
                    v[b + 2 * i] = x1 * cos[i] - x2 * sin[i];
                    v[b + 2 * i + 1] = x2 * cos[i] + x1 * sin[i];
                }
            }
            return;
        }
        for (int h = 0; h < heads; h++) {
            int b = off + h * headDim;
            for (int i = 0; i < half; i++) {
                float x1 = v[b + i];
                float x2 = v[b + i + half];
                v[b + i] = x1 * cos[i] - x2 * sin[i];
                v[b + i + half] = x2 * cos[i] + x1 * sin[i];
            }
        }
    }
}
