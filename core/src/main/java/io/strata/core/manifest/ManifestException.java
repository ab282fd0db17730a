package io.strata.core.manifest;

/** A manifest that cannot be read or is inconsistent; the message names the file, the field and the reason. */
public final class ManifestException extends RuntimeException {
    public ManifestException(String message) {
        super(message);
    }

    public ManifestException(String message, Throwable cause) {
        super(message, cause);
    }
}
