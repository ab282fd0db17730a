package io.strata.text;

import java.text.Normalizer.Form;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code normalizer} of a tokenizer.json: rewrites each stretch of text between added tokens before it is
 * split. Supported: NFC, NFD, NFKC, NFKD, Lowercase, Strip, StripAccents, Replace, Prepend, Sequence; anything
 * else is refused by name rather than skipped, since skipping it would silently change the ids.
 */
interface Normalizer {
    String normalize(String s);

    static Normalizer fromJson(Spec s) {
        if (s == null) {
            return null;
        }
        String type = s.type();
        return switch (type) {
            case "NFC" -> t -> java.text.Normalizer.normalize(t, Form.NFC);
            case "NFD" -> t -> java.text.Normalizer.normalize(t, Form.NFD);
            case "NFKC" -> t -> java.text.Normalizer.normalize(t, Form.NFKC);
            case "NFKD" -> t -> java.text.Normalizer.normalize(t, Form.NFKD);
            case "Lowercase" -> t -> t.toLowerCase(Locale.ROOT);
            case "Strip" -> strip(s.bool("strip_left", true), s.bool("strip_right", true));
            case "StripAccents" -> t -> {
                StringBuilder b = new StringBuilder(t.length());
                t.codePoints().filter(c -> Character.getType(c) != Character.NON_SPACING_MARK).forEach(b::appendCodePoint);
                return b.toString();
            };
            case "Replace" -> replace(s.pattern("pattern"), s.str("content"));
            case "Prepend" -> {
                String p = s.str("prepend");
                yield t -> t.isEmpty() ? t : p + t;
            }
            case "Sequence" -> {
                List<Normalizer> parts = s.array("normalizers").stream().map(Normalizer::fromJson).toList();
                yield t -> {
                    for (Normalizer n : parts) {
                        t = n.normalize(t);
                    }
                    return t;
                };
            }
            default -> throw s.fail("normalizer type '" + type + "' is not supported");
        };
    }

    static Normalizer replace(Pattern pattern, String content) {
        String literal = Matcher.quoteReplacement(content);
        return t -> pattern.matcher(t).replaceAll(literal);
    }

    private static Normalizer strip(boolean left, boolean right) {
        return t -> {
            int b = 0;
            int e = t.length();
            while (left && b < e && Whitespace.is(t.codePointAt(b))) {
                b += Character.charCount(t.codePointAt(b));
            }
            while (right && e > b && Whitespace.is(t.codePointBefore(e))) {
                e -= Character.charCount(t.codePointBefore(e));
            }
            return t.substring(b, e);
        };
    }
}
