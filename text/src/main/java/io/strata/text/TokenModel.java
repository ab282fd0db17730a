package io.strata.text;

import java.util.HashMap;
import java.util.Map;

/**
 * The model part of a tokenizer: turns one pre-tokenized word into ids. Holds the vocabulary both models share
 * (token to id, id to token, and the ids of the {@code <0xXX>} byte tokens used for byte fallback).
 */
abstract class TokenModel {
    final Map<String, Integer> vocab;
    private final String[] tokens;
    /** The id of {@code <0xXX>} for each byte, -1 where the vocabulary has none. */
    final int[] byteIds = new int[256];

    /** From a token-to-id map (tokenizer.json). */
    TokenModel(Map<String, Integer> vocab) {
        this(vocab, tokensOf(vocab));
    }

    /** From tokens indexed by id (GGUF); a repeated token keeps its first id for encoding. */
    TokenModel(String[] tokens) {
        this(indexOf(tokens), tokens);
    }

    private TokenModel(Map<String, Integer> vocab, String[] tokens) {
        this.vocab = vocab;
        this.tokens = tokens;
        for (int b = 0; b < 256; b++) {
            Integer id = vocab.get(String.format("<0x%02X>", b));
            byteIds[b] = id == null ? -1 : id;
        }
    }

    private static String[] tokensOf(Map<String, Integer> vocab) {
        int max = -1;
        for (int id : vocab.values()) {
            max = Math.max(max, id);
        }
        String[] t = new String[max + 1];
        vocab.forEach((tok, id) -> t[id] = tok);
        return t;
    }

    private static Map<String, Integer> indexOf(String[] tokens) {
        Map<String, Integer> m = new HashMap<>(tokens.length * 2);
        for (int i = 0; i < tokens.length; i++) {
            m.putIfAbsent(tokens[i], i);
        }
        return m;
    }

    abstract void tokenize(String word, IntList out);

    /** The id of a vocabulary entry, or -1. */
    final int tokenToId(String token) {
        Integer id = vocab.get(token);
        return id == null ? -1 : id;
    }

    /** The vocabulary entry of an id, or null when the id is outside the vocabulary. */
    final String idToToken(int id) {
        return id >= 0 && id < tokens.length ? tokens[id] : null;
    }

    /** One more than the highest id. */
    final int vocabSize() {
        return tokens.length;
    }
}
