package io.strata.tools.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.testdata.TestData;
import io.strata.text.Tokenizer;
import java.io.PrintWriter;
import org.junit.jupiter.api.Test;

/** Streaming generated ids to a terminal: whole characters per flush, no special tokens, padding ids ignored. */
class TextStreamTest {
    @Test
    void aCharacterSplitAcrossByteTokensIsWrittenWholeOnceItsLastByteArrives() {
        Tokenizer tok = Tokenizer.load(TestData.dir("tokenizers/mistral-sp32k"));
        String text = "Fête 🦩 ok 𝔘";
        int[] ids = tok.encode(text, false);
        int emojiBytes = 0;
        for (int id : ids) {
            emojiBytes += tok.token(id).orElseThrow().startsWith("<0x") ? 1 : 0;
        }
        assertTrue(emojiBytes >= 8, "the flamingo and the math letter are byte-fallback tokens, four each");
        FlushRecorder w = new FlushRecorder();
        TextStream s = new TextStream(tok, new PrintWriter(w));
        for (int id : ids) {
            s.push(id);
        }
        s.push(2); // </s>: special, not shown
        s.push(40_000); // a padding row beyond the tokenizer's 32000 ids: nothing, no error
        String all = s.finish();
        assertEquals(text, all);
        assertEquals(text, String.join("", w.chunks), "everything once, in order");
        assertTrue(w.chunks.size() >= 4, w.chunks.toString());
        for (String c : w.chunks) {
            assertFalse(c.contains("\uFFFD"), "no broken character is ever printed: " + w.chunks);
            assertFalse(Character.isLowSurrogate(c.charAt(0)), w.chunks.toString());
        }
        assertTrue(w.chunks.stream().anyMatch(c -> c.contains("🦩")), "the flamingo comes out in one piece");
    }

    @Test
    void aReplyCutInsideACharacterEndsWithTheReplacementCharacterAsAFullDecodeShowsIt() {
        Tokenizer tok = Tokenizer.load(TestData.dir("tokenizers/mistral-sp32k"));
        int[] ids = tok.encode("ab 🦩", false);
        FlushRecorder w = new FlushRecorder();
        TextStream s = new TextStream(tok, new PrintWriter(w));
        for (int i = 0; i < ids.length - 2; i++) { // the flamingo's last two bytes never come
            s.push(ids[i]);
        }
        String all = s.finish();
        assertEquals(tok.decode(java.util.Arrays.copyOf(ids, ids.length - 2), true), all);
        assertTrue(all.endsWith("\uFFFD"));
    }
}
