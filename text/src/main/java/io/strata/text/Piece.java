package io.strata.text;

/**
 * A stretch of text on its way to the model: {@code atStart} says it begins at the first character of the
 * encoded text (Metaspace's prepend_scheme "first" and GGUF SentencePiece's space prefix depend on it).
 */
record Piece(String text, boolean atStart) {
}
