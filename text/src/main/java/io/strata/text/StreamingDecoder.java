package io.strata.text;

import java.util.Arrays;

/**
 * Decodes generated ids one at a time into text that can be printed at once. A UTF-8 character split across
 * tokens (an emoji in four {@code <0xXX>} byte-fallback tokens, a CJK character across byte-level tokens) is held
 * back until its last byte arrives, so nothing is printed twice, printed broken, or lost.
 *
 * <p>Same approach as the Hugging Face DecodeStream: the new ids are decoded together with a few earlier ones (so
 * decoders that look at neighbours, such as Metaspace's or Strip's first-token rule, see the same context as a
 * full decode), and only the part past the already-printed prefix is emitted, once it no longer ends in an
 * incomplete character (U+FFFD).
 */
public final class StreamingDecoder {
    private final Tokenizer tokenizer;
    private final boolean skipSpecial;
    private int[] window = new int[16]; // the ids decoded together: printed context, then not yet printed ids
    private int size;
    private int prefixIndex; // window[0, prefixIndex) is context whose text, prefix, is printed already
    private String prefix = "";

    StreamingDecoder(Tokenizer tokenizer, boolean skipSpecial) {
        this.tokenizer = tokenizer;
        this.skipSpecial = skipSpecial;
    }

    /** Takes the next id; returns the text that became complete with it (often empty). */
    public String push(int id) {
        if (size == window.length) {
            window = Arrays.copyOf(window, size * 2);
        }
        window[size++] = id;
        String text = tokenizer.decode(Arrays.copyOf(window, size), skipSpecial);
        if (text.length() <= prefix.length() || text.endsWith("\uFFFD") || !text.startsWith(prefix)) {
            return "";
        }
        String fresh = text.substring(prefix.length());
        // keep the ids just printed as the context of the next ones
        System.arraycopy(window, prefixIndex, window, 0, size - prefixIndex);
        size -= prefixIndex;
        prefixIndex = size;
        prefix = tokenizer.decode(Arrays.copyOf(window, size), skipSpecial);
        return fresh;
    }

    /**
     * The text still held at the end of generation: an incomplete character comes out as U+FFFD, as a full
     * decode shows it. The decoder is then ready for a new sequence.
     */
    public String finish() {
        String text = tokenizer.decode(Arrays.copyOf(window, size), skipSpecial);
        String rest = text.length() > prefix.length() && text.startsWith(prefix) ? text.substring(prefix.length()) : "";
        size = 0;
        prefixIndex = 0;
        prefix = "";
        return rest;
    }
}
