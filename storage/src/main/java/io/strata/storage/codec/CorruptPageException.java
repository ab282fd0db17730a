package io.strata.storage.codec;

/** A spilled KV page record that fails validation (bad magic, lengths, checksum, truncation or decode). */
public class CorruptPageException extends RuntimeException {
    public CorruptPageException(String message) {
        super(message);
    }

    public CorruptPageException(String message, Throwable cause) {
        super(message, cause);
    }
}
