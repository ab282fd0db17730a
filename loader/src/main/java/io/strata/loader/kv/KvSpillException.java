package io.strata.loader.kv;

/** A spilled page of one sequence could not be brought back (corrupt or truncated spill file, I/O error). */
public class KvSpillException extends RuntimeException {
    public KvSpillException(String message, Throwable cause) {
        super(message, cause);
    }
}
