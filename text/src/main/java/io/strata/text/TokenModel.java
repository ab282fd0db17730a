package io.strata.text;

/** The model part of a tokenizer: turns one pre-tokenized word into ids, and knows its vocabulary. */
interface TokenModel {
    void tokenize(String word, IntList out);

    /** The id of a vocabulary entry, or -1. */
    int tokenToId(String token);

    /** The vocabulary entry of an id, or null when the id is outside the vocabulary. */
    String idToToken(int id);

    int vocabSize();
}
