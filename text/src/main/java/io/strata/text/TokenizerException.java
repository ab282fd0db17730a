package io.strata.text;

/**
 * A tokenizer file, GGUF vocabulary, chat template or text that cannot be used. The message is one line that
 * names the file (or metadata key), the field and the reason, so callers print it as it is.
 */
public final class TokenizerException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public TokenizerException(String message) {
        super(message);
    }

    public TokenizerException(String message, Throwable cause) {
        super(message, cause);
    }
}
