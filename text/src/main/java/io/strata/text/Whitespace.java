package io.strata.text;

/**
 * Unicode White_Space, the set Rust's {@code char::is_whitespace} and Oniguruma's {@code \s} use (Java's
 * Character.isWhitespace leaves out no-break spaces, so it cannot stand in).
 */
final class Whitespace {
    private Whitespace() {
    }

    static boolean is(int c) {
        return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680
                || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F
                || c == 0x3000;
    }

    /** Rust's {@code char::is_alphanumeric}: the word test of single_word added tokens. */
    static boolean isWordChar(int c) {
        return Character.isAlphabetic(c) || Character.isDigit(c) || Character.getType(c) == Character.LETTER_NUMBER
                || Character.getType(c) == Character.OTHER_NUMBER;
    }
}
