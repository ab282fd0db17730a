package io.strata.core.hash;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HexFormat;
import org.bouncycastle.crypto.digests.Blake3Digest;

/**
 * BLAKE3 (32-byte output) over byte arrays and memory segments: the one place Strata hashes content.
 * Currently backed by Bouncy Castle; the SIMD implementation replaces the body, not the API.
 */
public final class Blake3 {
    public static final int OUT_LEN = 32;
    private static final int COPY = 64 << 10;

    private Blake3() {
    }

    public static byte[] hash(byte[] data) {
        return hash(MemorySegment.ofArray(data));
    }

    public static byte[] hash(MemorySegment data) {
        Blake3Digest d = new Blake3Digest(OUT_LEN * 8);
        byte[] buf = new byte[(int) Math.min(COPY, Math.max(1, data.byteSize()))];
        for (long off = 0; off < data.byteSize(); off += buf.length) {
            int n = (int) Math.min(buf.length, data.byteSize() - off);
            MemorySegment.copy(data, ValueLayout.JAVA_BYTE, off, buf, 0, n);
            d.update(buf, 0, n);
        }
        byte[] out = new byte[OUT_LEN];
        d.doFinal(out, 0);
        return out;
    }

    public static String hex(byte[] hash) {
        return HexFormat.of().formatHex(hash);
    }

    public static String hashHex(MemorySegment data) {
        return hex(hash(data));
    }

    public static String hashHex(byte[] data) {
        return hex(hash(data));
    }
}
