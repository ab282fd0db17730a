package io.strata.storage.synth;

import io.strata.core.model.DType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/** Streams one synthetic tensor's values into a file through a reusable buffer, in the tensor's dtype. */
final class TensorFiller {
    /** sqrt(3): a uniform on [-a, a] has standard deviation a / sqrt(3). */
    private static final float SQRT3 = 1.7320508f;
    private static final float TO_UNIT = 1f / (1 << 23);

    private TensorFiller() {
    }

    static void fill(TensorSpec t, SyntheticCheckpoint.SplitMix rng, float[] direction, ByteBuffer buf,
                     FileChannel ch) throws IOException {
        long n = t.elements();
        long rowLen = t.rowLength();
        float amp = t.std() * SQRT3;
        boolean[] biased = t.biasedRows();
        DType dtype = t.dtype();
        int size = dtype.byteSize();
        buf.clear();
        for (long i = 0; i < n; i += 2) {
            long bits = rng.next();
            for (int h = 0; h < 2 && i + h < n; h++) {
                long idx = i + h;
                // 24 random bits per value -> uniform in [-1, 1).
                float u = ((int) (bits >>> (h * 32)) & 0xFFFFFF) * TO_UNIT - 1f;
                float v = t.center() + amp * u;
                if (t.biasScale() != 0) {
                    long row = idx / rowLen;
                    if (biased == null || (row < biased.length && biased[(int) row])) {
                        int col = (int) (idx % rowLen);
                        v += t.biasScale() * direction[col % direction.length];
                    }
                }
                if (buf.remaining() < size) {
                    buf.flip();
                    SyntheticCheckpoint.drain(ch, buf);
                    buf.clear();
                }
                switch (dtype) {
                    case F32 -> buf.putFloat(v);
                    case F16 -> buf.putShort(Float.floatToFloat16(v));
                    default -> buf.putShort(toBf16(v));
                }
            }
        }
        buf.flip();
        SyntheticCheckpoint.drain(ch, buf);
        buf.clear();
    }

    /** Round-to-nearest-even float -> bfloat16 (values here are finite). */
    static short toBf16(float v) {
        int bits = Float.floatToRawIntBits(v);
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }
}
