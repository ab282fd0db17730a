package io.strata.storage.convert;

/** A conversion that failed; the message names the file, the tensor (when there is one) and the reason. */
public final class ConvertException extends RuntimeException {
    public ConvertException(String message) {
        super(message);
    }

    public ConvertException(String message, Throwable cause) {
        super(message, cause);
    }
}
