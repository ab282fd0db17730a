package io.strata.storage.safetensors;

/** A checkpoint that cannot be read; the message names the file, the tensor (when there is one) and the reason. */
public final class CheckpointException extends RuntimeException {
    public CheckpointException(String message) {
        super(message);
    }

    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
