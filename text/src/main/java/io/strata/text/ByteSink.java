package io.strata.text;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** A growable byte buffer for decoders that rebuild UTF-8 from byte tokens, with lossy and strict decoding. */
final class ByteSink {
    private byte[] buf = new byte[64];
    private int size;

    int size() {
        return size;
    }

    void truncate(int n) {
        size = n;
    }

    void append(byte b) {
        if (size == buf.length) {
            buf = Arrays.copyOf(buf, size * 2);
        }
        buf[size++] = b;
    }

    void append(byte[] bytes) {
        if (size + bytes.length > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, size + bytes.length));
        }
        System.arraycopy(bytes, 0, buf, size, bytes.length);
        size += bytes.length;
    }

    /** UTF-8 with each invalid sequence replaced by U+FFFD (Rust's from_utf8_lossy, as Hugging Face uses). */
    String lossy() {
        return new String(buf, 0, size, StandardCharsets.UTF_8);
    }

    /** The text when the bytes are valid UTF-8, otherwise null. */
    String strictOrNull() {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(buf, 0, size)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}
