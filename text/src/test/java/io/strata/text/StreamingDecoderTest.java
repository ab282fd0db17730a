package io.strata.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Streaming decode of real tokenizers: characters split across tokens are held, nothing is doubled or lost. */
class StreamingDecoderTest {
    private static final String TEXT = "Emoji 🙂🤖👍🏽 and 🇺🇸, 𝕏 CJK 日本語の龘𠀋 text, naïve end.";

    private static List<String> stream(Tokenizer t, int[] ids) {
        StreamingDecoder d = t.streamingDecoder(true);
        List<String> chunks = new ArrayList<>();
        for (int id : ids) {
            chunks.add(d.push(id));
        }
        chunks.add(d.finish());
        return chunks;
    }

    @Test
    void byteFallbackTokensAreHeldUntilTheCharacterIsComplete() {
        Tokenizer t = ReferenceCasesTest.tokenizer("mistral-sp32k");
        int[] ids = t.encode(TEXT, true);
        List<String> chunks = stream(t, ids);
        assertEquals(TEXT, String.join("", chunks));
        assertEquals(t.decode(ids, true), String.join("", chunks));
        for (String c : chunks) {
            assertFalse(c.contains("\uFFFD"), "a chunk printed a broken character: " + chunks);
        }
        // 🤖 is not a SentencePiece piece here: its four UTF-8 bytes come as four <0xXX> tokens
        int first = indexOfByteToken(t, ids, 0xF0);
        assertTrue(first >= 0, "the test text must exercise byte fallback: " + Arrays.toString(ids));
        for (int k = 0; k < 3; k++) {
            assertEquals("", chunks.get(first + k), "nothing printed before the last byte of 🤖");
        }
        assertTrue(chunks.get(first + 3).startsWith("🤖"), chunks.get(first + 3));
    }

    @Test
    void byteLevelTokensSplittingACharacterAreHeld() {
        Tokenizer t = ReferenceCasesTest.tokenizer("qwen3");
        int[] ids = t.encode(TEXT, false);
        List<String> chunks = stream(t, ids);
        assertEquals(TEXT, String.join("", chunks));
        boolean split = false;
        for (int id : ids) {
            split |= t.decode(new int[]{id}).contains("\uFFFD");
        }
        assertTrue(split, "the test text must have a character split across byte-level tokens");
        for (String c : chunks) {
            assertFalse(c.contains("\uFFFD"), chunks.toString());
        }
    }

    @Test
    void leadingSpaceRuleIsAppliedOnceAsInAFullDecode() {
        Tokenizer t = ReferenceCasesTest.tokenizer("mistral-sp32k");
        int[] ids = t.encode("Hello world, how are you", false);
        List<String> chunks = stream(t, ids);
        assertEquals("Hello", chunks.getFirst());
        assertEquals("Hello world, how are you", String.join("", chunks));
    }

    @Test
    void finishEmitsAnIncompleteCharacterAsAFullDecodeWouldAndResets() {
        Tokenizer t = ReferenceCasesTest.tokenizer("mistral-sp32k");
        int[] ids = t.encode("a🤖", false);
        int f0 = indexOfByteToken(t, ids, 0xF0);
        int[] cut = Arrays.copyOf(ids, f0 + 2); // "a" and two of the emoji's four bytes
        StreamingDecoder d = t.streamingDecoder(false);
        StringBuilder out = new StringBuilder();
        for (int id : cut) {
            out.append(d.push(id));
        }
        assertEquals("a", out.toString());
        String rest = d.finish();
        assertEquals(t.decode(cut), out + rest);
        assertTrue(rest.contains("\uFFFD"), rest);
        StringBuilder again = new StringBuilder();
        for (int id : t.encode("ok", false)) {
            again.append(d.push(id));
        }
        assertEquals("ok", again + d.finish());
        assertTrue(f0 > 0);
    }

    @Test
    void specialTokensCanBeLeftOut() {
        Tokenizer t = ReferenceCasesTest.tokenizer("qwen3");
        int[] ids = t.encode("<|im_start|>assistant\nHi<|im_end|>", false);
        StreamingDecoder d = t.streamingDecoder(true);
        StringBuilder out = new StringBuilder();
        for (int id : ids) {
            out.append(d.push(id));
        }
        assertEquals("assistant\nHi", out + d.finish());
    }

    private static int indexOfByteToken(Tokenizer t, int[] ids, int value) {
        for (int i = 0; i < ids.length; i++) {
            if (Decoder.byteToken(t.token(ids[i]).orElse("")) == value) {
                return i;
            }
        }
        return -1;
    }
}
