package io.strata.text;

import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Compiles the Oniguruma patterns of tokenizer files (split regexes, Replace normalizers) with java.util.regex.
 * The two engines are both backtracking with the same alternation order; the differences that matter are that
 * {@code \s}, {@code \d}, {@code \w} and case folding are Unicode-aware in Oniguruma (UNICODE_CHARACTER_CLASS
 * here) and that script names are written {@code \p{Han}} there but {@code \p{IsHan}} in Java.
 */
final class OnigRegex {
    private OnigRegex() {
    }

    static Pattern compile(String onig, Spec where) {
        try {
            return Pattern.compile(translate(onig), Pattern.UNICODE_CHARACTER_CLASS);
        } catch (PatternSyntaxException e) {
            throw where.fail("regex not supported: " + e.getDescription());
        }
    }

    /** Same as {@link #compile(String, Spec)} for patterns that come from a table rather than a file. */
    static Pattern compile(String onig) {
        return Pattern.compile(translate(onig), Pattern.UNICODE_CHARACTER_CLASS);
    }

    static String translate(String p) {
        StringBuilder out = new StringBuilder(p.length() + 16);
        for (int i = 0; i < p.length(); i++) {
            char c = p.charAt(i);
            if (c == '\\' && i + 1 < p.length()) {
                char n = p.charAt(i + 1);
                if ((n == 'p' || n == 'P') && i + 2 < p.length() && p.charAt(i + 2) == '{') {
                    int close = p.indexOf('}', i + 3);
                    if (close > 0) {
                        String name = p.substring(i + 3, close);
                        out.append('\\').append(n).append('{').append(javaProperty(name)).append('}');
                        i = close;
                        continue;
                    }
                }
                out.append(c).append(n);
                i++;
                continue;
            }
            out.append(c);
        }
        return out.toString();
    }

    /** General categories (L, Lu, N, ...) keep their name; anything else (a script) gets Java's Is prefix. */
    private static String javaProperty(String name) {
        if (name.length() <= 2 && !name.isEmpty() && Character.isUpperCase(name.charAt(0))) {
            return name;
        }
        if (name.startsWith("Is") || name.startsWith("In") || name.contains("=")) {
            return name;
        }
        return "Is" + name;
    }
}
