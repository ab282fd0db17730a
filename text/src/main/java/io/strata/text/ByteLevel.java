package io.strata.text;

import java.nio.charset.StandardCharsets;

/**
 * GPT-2's reversible byte-to-character alphabet: every byte of the UTF-8 text becomes one printable character
 * (printable Latin-1 bytes map to themselves, the other 68 to U+0100..U+0143), so byte-level BPE vocabularies
 * are plain strings. Shared by the ByteLevel pre-tokenizer, the ByteLevel decoder and GGUF gpt2 vocabularies.
 */
final class ByteLevel {
    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[0x144];

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        int n = 0;
        for (int b = 0; b < 256; b++) {
            boolean self = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = self ? (char) b : (char) (256 + n++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    private ByteLevel() {
    }

    /** The text's UTF-8 bytes, one alphabet character each. */
    static String encode(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        char[] out = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            out[i] = BYTE_TO_CHAR[bytes[i] & 0xFF];
        }
        return new String(out);
    }

    /**
     * Appends the bytes a token stands for. A token with a character outside the alphabet (an added token such as
     * a CJK word) contributes its own UTF-8 bytes, as the Hugging Face decoder does.
     */
    static void decodeInto(String token, ByteSink out) {
        int start = out.size();
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            int b = c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
            if (b < 0) {
                out.truncate(start);
                out.append(token.getBytes(StandardCharsets.UTF_8));
                return;
            }
            out.append((byte) b);
        }
    }
}
