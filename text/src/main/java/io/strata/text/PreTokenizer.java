package io.strata.text;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The {@code pre_tokenizer} of a tokenizer.json: cuts a normalized stretch of text into the words the model
 * encodes one by one. Supported: ByteLevel, Split, Metaspace, Sequence, Digits, Whitespace, WhitespaceSplit,
 * Punctuation, CharDelimiterSplit, BertPreTokenizer; any other type is refused by name.
 */
interface PreTokenizer {
    /** GPT-2's split regex: ByteLevel with use_regex. */
    String GPT2_REGEX = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

    void split(Piece in, List<Piece> out);

    static PreTokenizer fromJson(Spec s) {
        if (s == null) {
            return null;
        }
        String type = s.type();
        return switch (type) {
            case "ByteLevel" -> byteLevel(s.bool("add_prefix_space", true), s.bool("use_regex", true));
            case "Split" -> split(s.pattern("pattern"), SplitBehavior.fromJson(s, "behavior", null), s.bool("invert", false),
                    s);
            case "Metaspace" -> metaspace(s);
            case "Sequence" -> sequence(s.array("pretokenizers").stream().map(PreTokenizer::fromJson).toList());
            case "Digits" -> split(Pattern.compile("\\p{N}"), s.bool("individual_digits", false)
                    ? SplitBehavior.ISOLATED : SplitBehavior.CONTIGUOUS, false, s);
            case "Whitespace" -> split(Pattern.compile("\\w+|[^\\w\\s]+", Pattern.UNICODE_CHARACTER_CLASS),
                    SplitBehavior.REMOVED, true, s);
            case "WhitespaceSplit" -> split(Pattern.compile("\\s", Pattern.UNICODE_CHARACTER_CLASS), SplitBehavior.REMOVED,
                    false, s);
            case "Punctuation" -> split(Pattern.compile(PUNCTUATION),
                    SplitBehavior.fromJson(s, "behavior", SplitBehavior.ISOLATED), false, s);
            case "CharDelimiterSplit" -> {
                String d = s.str("delimiter");
                if (d.codePointCount(0, d.length()) != 1) {
                    throw s.req("delimiter").fail("must be one character");
                }
                yield split(Pattern.compile(Pattern.quote(d)), SplitBehavior.REMOVED, false, s);
            }
            case "BertPreTokenizer" -> sequence(List.of(
                    split(Pattern.compile("\\s", Pattern.UNICODE_CHARACTER_CLASS), SplitBehavior.REMOVED, false, s),
                    split(Pattern.compile(PUNCTUATION), SplitBehavior.ISOLATED, false, s)));
            default -> throw s.fail("pre_tokenizer type '" + type + "' is not supported");
        };
    }

    /** Rust's is_ascii_punctuation or a Unicode punctuation category (the Punctuation pre-tokenizer's test). */
    String PUNCTUATION = "[\\p{P}!-/:-@\\[-`{-~]";

    static PreTokenizer split(Pattern p, SplitBehavior behavior, boolean invert, Spec where) {
        if (behavior == null) {
            throw where.fail("missing field 'behavior'");
        }
        return (in, out) -> behavior.split(p, invert, in.text(), in.atStart(), out);
    }

    /** Optionally prefixes a space, optionally splits with the GPT-2 regex, then maps bytes to the alphabet. */
    static PreTokenizer byteLevel(boolean addPrefixSpace, boolean useRegex) {
        Pattern gpt2 = useRegex ? OnigRegex.compile(GPT2_REGEX) : null;
        return (in, out) -> {
            String t = in.text();
            if (addPrefixSpace && !t.startsWith(" ")) {
                t = " " + t;
            }
            if (gpt2 == null) {
                out.add(new Piece(ByteLevel.encode(t), in.atStart()));
                return;
            }
            List<Piece> words = new ArrayList<>();
            SplitBehavior.ISOLATED.split(gpt2, false, t, in.atStart(), words);
            for (Piece w : words) {
                out.add(new Piece(ByteLevel.encode(w.text()), w.atStart()));
            }
        };
    }

    private static PreTokenizer metaspace(Spec s) {
        String rep = s.str("replacement", "\u2581");
        String scheme;
        if (s.has("prepend_scheme")) {
            scheme = s.str("prepend_scheme");
        } else {
            scheme = s.bool("add_prefix_space", true) ? "always" : "never";
        }
        if (!scheme.equals("always") && !scheme.equals("first") && !scheme.equals("never")) {
            throw s.req("prepend_scheme").fail("unknown prepend_scheme '" + scheme + "'");
        }
        boolean splitWords = s.bool("split", true);
        Pattern delim = Pattern.compile(Pattern.quote(rep));
        String fScheme = scheme;
        return (in, out) -> {
            String t = in.text().replace(" ", rep);
            boolean prepend = switch (fScheme) {
                case "always" -> true;
                case "first" -> in.atStart();
                default -> false;
            };
            if (prepend && !t.startsWith(rep)) {
                t = rep + t;
            }
            if (splitWords) {
                SplitBehavior.MERGED_WITH_NEXT.split(delim, false, t, in.atStart(), out);
            } else {
                out.add(new Piece(t, in.atStart()));
            }
        };
    }

    static PreTokenizer sequence(List<PreTokenizer> steps) {
        return (in, out) -> {
            List<Piece> cur = List.of(in);
            for (PreTokenizer p : steps) {
                List<Piece> next = new ArrayList<>(cur.size() * 2);
                for (Piece piece : cur) {
                    p.split(piece, next);
                }
                cur = next;
            }
            out.addAll(cur);
        };
    }
}
