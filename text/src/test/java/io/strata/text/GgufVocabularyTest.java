package io.strata.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * GGUF-embedded vocabularies through the plain-map contract. The big tests rebuild the {@code tokenizer.ggml.*}
 * arrays the way llama.cpp's converter writes them from the real tokenizer.json files (tokens by id, token types,
 * merges as "left right", SentencePiece scores) and check the reference ids and text still come out; the small
 * ones pin the algorithm and the errors on hand-built maps.
 */
class GgufVocabularyTest {

    /** tokens, types (and merges) from a tokenizer.json; special added tokens become control tokens. */
    private static Map<String, Object> fromTokenizerJson(String name) {
        HfTokenizerFiles.Parsed p = HfTokenizerFiles.parse(ReferenceCasesTest.dir(name).resolve("tokenizer.json"));
        int n = 0;
        for (int id : p.vocab().values()) {
            n = Math.max(n, id + 1);
        }
        JsonNode added = p.rest().get("added_tokens");
        for (JsonNode a : added) {
            n = Math.max(n, a.get("id").asInt() + 1);
        }
        String[] tokens = new String[n];
        Long[] types = new Long[n];
        Arrays.fill(types, 1L);
        p.vocab().forEach((t, id) -> tokens[id] = t);
        for (JsonNode a : added) {
            tokens[a.get("id").asInt()] = a.get("content").asText();
            types[a.get("id").asInt()] = a.get("special").asBoolean() ? 3L : 4L;
        }
        for (int i = 0; i < n; i++) {
            if (tokens[i] == null) {
                tokens[i] = "[PAD" + i + "]";
                types[i] = 5L;
            }
        }
        Map<String, Object> md = new HashMap<>();
        md.put("tokenizer.ggml.tokens", Arrays.asList(tokens));
        md.put("tokenizer.ggml.token_type", Arrays.asList(types));
        List<String> merges = new ArrayList<>();
        for (String[] m : p.merges()) {
            merges.add(m[0] + " " + m[1]);
        }
        md.put("tokenizer.ggml.merges", merges);
        return md;
    }

    private static void assertReferenceCases(String name, Tokenizer t) throws Exception {
        for (JsonNode c : ReferenceCasesTest.cases(name, "cases.json")) {
            String text = c.get("text").asText();
            int[] ids = t.encode(text, false);
            assertArrayEquals(ReferenceCasesTest.ints(c.get("ids")), ids, name + " ids of " + text);
            assertArrayEquals(ReferenceCasesTest.ints(c.get("idsWithSpecialTokens")), t.encode(text, true),
                    name + " idsWithSpecialTokens of " + text);
            assertEquals(c.get("decoded").asText(), t.decode(ids), name + " decode of " + text);
        }
    }

    @Test
    void gpt2VocabularyWithQwen2PreTokenizerMatchesQwen3References() throws Exception {
        Map<String, Object> md = fromTokenizerJson("qwen3");
        md.put("tokenizer.ggml.model", "gpt2");
        md.put("tokenizer.ggml.pre", "qwen2");
        md.put("tokenizer.ggml.eos_token_id", 151645L);
        md.put("tokenizer.ggml.add_bos_token", false);
        Tokenizer t = Tokenizer.fromGgufMetadata(md, "qwen3.gguf");
        assertReferenceCases("qwen3", t);
        assertArrayEquals(new int[]{151645}, t.eosIds());
        assertTrue(t.bosId().isEmpty());
    }

    @Test
    void gpt2VocabularyWithGpt4oPreTokenizerMatchesGptOssReferences() throws Exception {
        Map<String, Object> md = fromTokenizerJson("gpt-oss");
        md.put("tokenizer.ggml.model", "gpt2");
        md.put("tokenizer.ggml.pre", "gpt-4o");
        md.put("tokenizer.ggml.eos_token_id", 200002);
        md.put("tokenizer.ggml.eot_token_id", 199999);
        Tokenizer t = Tokenizer.fromGgufMetadata(md, "gpt-oss.gguf");
        assertReferenceCases("gpt-oss", t);
        assertArrayEquals(new int[]{200002, 199999}, t.eosIds());
    }

    /**
     * The SentencePiece path: no merges, piece scores instead. Hugging Face's converter turned the scores into
     * merges ordered by the merged piece's score, so the scores are recovered from the merge ranks (a piece no
     * merge forms scores lowest); BOS is added by default.
     */
    @Test
    void llamaVocabularyWithScoresMatchesMistralReferences() throws Exception {
        Map<String, Object> md = fromTokenizerJson("mistral-sp32k");
        @SuppressWarnings("unchecked")
        List<String> merges = (List<String>) md.remove("tokenizer.ggml.merges");
        @SuppressWarnings("unchecked")
        List<String> tokens = (List<String>) md.get("tokenizer.ggml.tokens");
        Map<String, Integer> firstRank = new HashMap<>();
        for (int r = 0; r < merges.size(); r++) {
            firstRank.putIfAbsent(merges.get(r).replace(" ", ""), r);
        }
        List<Long> types = new ArrayList<>();
        List<Float> scores = new ArrayList<>();
        for (int i = 0; i < tokens.size(); i++) {
            String tok = tokens.get(i);
            boolean isByte = Decoder.byteToken(tok) >= 0;
            types.add(i == 0 ? 2L : i <= 2 ? 3L : isByte ? 6L : 1L);
            Integer rank = firstRank.get(tok);
            scores.add(rank != null ? -(float) rank : tok.codePointCount(0, tok.length()) == 1 ? 0f : -1e9f);
        }
        md.put("tokenizer.ggml.token_type", types);
        md.put("tokenizer.ggml.scores", scores);
        md.put("tokenizer.ggml.model", "llama");
        md.put("tokenizer.ggml.bos_token_id", 1);
        md.put("tokenizer.ggml.eos_token_id", 2);
        md.put("tokenizer.chat_template", "{{ bos_token }}");
        Tokenizer t = Tokenizer.fromGgufMetadata(md, "mistral.gguf");
        assertReferenceCases("mistral-sp32k", t);
        assertEquals(1, t.bosId().getAsInt());
        assertEquals("{{ bos_token }}", t.chatTemplate().orElseThrow());
    }

    /** A vocabulary small enough to follow by hand: the highest-scoring piece is formed first. */
    @Test
    void llamaMergesByScoreAndFallsBackToBytes() {
        Map<String, Object> md = new HashMap<>();
        md.put("tokenizer.ggml.model", "llama");
        List<String> tokens = new ArrayList<>(List.of("<unk>", "<s>", "</s>", "\u2581", "a", "b", "c", "ab", "bc",
                "\u2581a", "\u2581abc"));
        for (int b = 0; b < 256; b++) {
            tokens.add(String.format("<0x%02X>", b));
        }
        List<Float> scores = new ArrayList<>();
        for (int i = 0; i < tokens.size(); i++) {
            scores.add(0f);
        }
        scores.set(7, -5f);  // ab
        scores.set(8, -1f);  // bc beats ab
        scores.set(9, -2f);  // ▁a
        float[] scoreArray = new float[scores.size()];
        for (int i = 0; i < scoreArray.length; i++) {
            scoreArray[i] = scores.get(i);
        }
        md.put("tokenizer.ggml.tokens", tokens.toArray(new String[0]));
        md.put("tokenizer.ggml.scores", scoreArray); // arrays are accepted as well as lists
        Tokenizer t = Tokenizer.fromGgufMetadata(md, "tiny.gguf");
        // "▁abc": bc (-1) merges first, then ▁a (-2); ▁a+bc = "▁abc" is a piece (0) and merges last
        assertArrayEquals(new int[]{1, 10}, t.encode("abc", true));
        // "▁ab" + "é": ▁a first, then ▁a+b is no piece; é is no piece: its two UTF-8 bytes
        assertArrayEquals(new int[]{9, 5, 11 + 0xC3, 11 + 0xA9}, t.encode("abé", false));
        assertEquals("abé", t.decode(new int[]{9, 5, 11 + 0xC3, 11 + 0xA9}));
    }

    @Test
    void noneMeansIdsOnly() {
        Tokenizer t = Tokenizer.fromGgufMetadata(Map.of("tokenizer.ggml.model", "none"), "ids.gguf");
        assertTrue(!t.hasVocabulary());
        TokenizerException e = assertThrows(TokenizerException.class, () -> t.encode("hi", false));
        assertEquals("ids.gguf: tokenizer.ggml.model is 'none': this model has no vocabulary; give token ids "
                + "instead of text", e.getMessage());
    }

    @Test
    void badMetadataNamesTheKey() {
        assertEquals("m.gguf: tokenizer.ggml.model: tokenizer model 'bert' is not supported (supported: llama, gpt2, none)",
                error(Map.of("tokenizer.ggml.model", "bert", "tokenizer.ggml.tokens", List.of("a"))));
        assertEquals("m.gguf: tokenizer.ggml.model: missing (no tokenizer in this file)", error(Map.of()));
        assertEquals("m.gguf: tokenizer.ggml.tokens: expected a list, got String",
                error(Map.of("tokenizer.ggml.model", "gpt2", "tokenizer.ggml.tokens", "a b")));
        assertEquals("m.gguf: tokenizer.ggml.tokens[1]: expected String, got Long",
                error(Map.of("tokenizer.ggml.model", "gpt2", "tokenizer.ggml.tokens", List.of("a", 7L))));
        assertEquals("m.gguf: tokenizer.ggml.merges[0]: malformed merge 'ab' (expected \"left right\")",
                error(Map.of("tokenizer.ggml.model", "gpt2", "tokenizer.ggml.tokens", List.of("a", "b", "ab"),
                        "tokenizer.ggml.merges", List.of("ab"))));
        assertEquals("m.gguf: tokenizer.ggml.merges[0]: merged token 'ab' is not in the vocabulary",
                error(Map.of("tokenizer.ggml.model", "gpt2", "tokenizer.ggml.tokens", List.of("a", "b"),
                        "tokenizer.ggml.merges", List.of("a b"))));
        assertEquals("m.gguf: tokenizer.ggml.pre: pre-tokenizer 'klingon' is not supported",
                error(Map.of("tokenizer.ggml.model", "gpt2", "tokenizer.ggml.tokens", List.of("a"),
                        "tokenizer.ggml.merges", List.of(), "tokenizer.ggml.pre", "klingon")));
        assertEquals("m.gguf: tokenizer.ggml.eos_token_id: token id 9 is outside the vocabulary of 1 tokens",
                error(Map.of("tokenizer.ggml.model", "gpt2", "tokenizer.ggml.tokens", List.of("a"),
                        "tokenizer.ggml.merges", List.of(), "tokenizer.ggml.eos_token_id", 9L)));
    }

    private static String error(Map<String, ?> md) {
        return assertThrows(TokenizerException.class, () -> Tokenizer.fromGgufMetadata(md, "m.gguf")).getMessage();
    }
}
