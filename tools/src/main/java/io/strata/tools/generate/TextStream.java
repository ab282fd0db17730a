package io.strata.tools.generate;

import io.strata.text.StreamingDecoder;
import io.strata.text.Tokenizer;
import java.io.PrintWriter;

/**
 * Generated ids to text as they come: each token's complete characters are written and flushed at once, a UTF-8
 * character split across tokens is held until its last byte (the tokenizer's {@link StreamingDecoder}), special
 * tokens (EOS, turn markers) are not shown, and ids the tokenizer does not know (the padding rows of a vocabulary
 * rounded up, as Qwen's 151936 for 151669 tokens) show as nothing, as Hugging Face decodes them.
 */
public final class TextStream {
    private final Tokenizer tokenizer;
    private final StreamingDecoder decoder;
    private final PrintWriter out;
    private final StringBuilder text = new StringBuilder();

    /** {@code out} null only collects the text. */
    public TextStream(Tokenizer tokenizer, PrintWriter out) {
        this.tokenizer = tokenizer;
        this.decoder = tokenizer.streamingDecoder(true);
        this.out = out;
    }

    public void push(int id) {
        if (tokenizer.token(id).isEmpty()) {
            return;
        }
        emit(decoder.push(id));
    }

    /** Writes what is still held (an incomplete character as U+FFFD) and returns all the text of this stream. */
    public String finish() {
        emit(decoder.finish());
        return text.toString();
    }

    private void emit(String s) {
        if (s.isEmpty()) {
            return;
        }
        text.append(s);
        if (out != null) {
            out.print(s);
            out.flush();
        }
    }
}
