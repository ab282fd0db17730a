package io.strata.text;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The added and special tokens, found in the text before anything else touches it, as Hugging Face does:
 * tokens with {@code normalized=false} are matched in the raw text, the stretches between them are normalized,
 * then tokens with {@code normalized=true} are matched in the normalized stretches. Matching is leftmost-longest;
 * {@code single_word} refuses a match inside a word, {@code lstrip}/{@code rstrip} swallow the whitespace beside
 * the token.
 */
final class AddedVocabulary {
    record AddedToken(int id, String content, boolean singleWord, boolean lstrip, boolean rstrip, boolean normalized,
                      boolean special) {
    }

    private final List<AddedToken> tokens;
    private final Map<Integer, AddedToken> byId = new HashMap<>();
    private final Map<String, AddedToken> byContent = new HashMap<>();
    private final Matcher raw;
    private final Matcher normalizedMatcher;

    AddedVocabulary(List<AddedToken> tokens, Normalizer normalizer) {
        this.tokens = List.copyOf(tokens);
        List<AddedToken> rawTokens = new ArrayList<>();
        List<String> rawKeys = new ArrayList<>();
        List<AddedToken> normTokens = new ArrayList<>();
        List<String> normKeys = new ArrayList<>();
        for (AddedToken t : tokens) {
            byId.put(t.id(), t);
            byContent.putIfAbsent(t.content(), t);
            if (t.content().isEmpty()) {
                continue;
            }
            if (t.normalized() && normalizer != null) {
                normTokens.add(t);
                normKeys.add(normalizer.normalize(t.content()));
            } else if (t.normalized()) {
                normTokens.add(t);
                normKeys.add(t.content());
            } else {
                rawTokens.add(t);
                rawKeys.add(t.content());
            }
        }
        raw = new Matcher(rawTokens, rawKeys);
        normalizedMatcher = new Matcher(normTokens, normKeys);
    }

    List<AddedToken> tokens() {
        return tokens;
    }

    AddedToken byId(int id) {
        return byId.get(id);
    }

    AddedToken byContent(String content) {
        return byContent.get(content);
    }

    boolean isSpecial(int id) {
        AddedToken t = byId.get(id);
        return t != null && t.special();
    }

    /** A stretch of text (tokenId -1) or an added token found in it. */
    record Segment(String text, int tokenId, boolean atStart) {
    }

    /** Splits on added tokens and normalizes the text between them. */
    List<Segment> extract(String text, Normalizer normalizer) {
        List<Segment> out = new ArrayList<>();
        for (Segment s : raw.split(text, true)) {
            if (s.tokenId() >= 0) {
                out.add(s);
                continue;
            }
            String norm = normalizer == null ? s.text() : normalizer.normalize(s.text());
            out.addAll(normalizedMatcher.split(norm, s.atStart()));
        }
        return out;
    }

    /** Leftmost-longest matching over a fixed token set, bucketed by first character. */
    private static final class Matcher {
        private final Map<Character, List<Integer>> byFirst = new HashMap<>();
        private final boolean[] firstAscii = new boolean[128];
        private final List<AddedToken> tokens;
        private final List<String> keys;

        Matcher(List<AddedToken> tokens, List<String> keys) {
            this.tokens = tokens;
            this.keys = keys;
            for (int i = 0; i < keys.size(); i++) {
                char c = keys.get(i).charAt(0);
                byFirst.computeIfAbsent(c, k -> new ArrayList<>()).add(i);
                if (c < 128) {
                    firstAscii[c] = true;
                }
            }
            for (List<Integer> l : byFirst.values()) {
                l.sort(Comparator.comparingInt((Integer i) -> keys.get(i).length()).reversed());
            }
        }

        List<Segment> split(String text, boolean atStart) {
            if (keys.isEmpty() || text.isEmpty()) {
                return text.isEmpty() ? List.of() : List.of(new Segment(text, -1, atStart));
            }
            List<Segment> out = new ArrayList<>();
            int emitted = 0; // text before this offset is already in out
            int i = 0;
            while (i < text.length()) {
                char c = text.charAt(i);
                List<Integer> cands = c < 128 && !firstAscii[c] ? null : byFirst.get(c);
                int hit = -1;
                if (cands != null) {
                    for (int k : cands) {
                        if (text.startsWith(keys.get(k), i)) {
                            hit = k;
                            break;
                        }
                    }
                }
                if (hit < 0) {
                    i++;
                    continue;
                }
                AddedToken t = tokens.get(hit);
                int start = i;
                int stop = i + keys.get(hit).length();
                if (t.singleWord()) {
                    boolean before = start == 0 || !Whitespace.isWordChar(text.codePointBefore(start));
                    boolean after = stop == text.length() || !Whitespace.isWordChar(text.codePointAt(stop));
                    if (!before || !after) {
                        i = stop; // the refused match still consumes its text, as with Aho-Corasick's find_iter
                        continue;
                    }
                }
                if (t.lstrip()) {
                    while (start > emitted && Whitespace.is(text.codePointBefore(start))) {
                        start -= Character.charCount(text.codePointBefore(start));
                    }
                }
                if (t.rstrip()) {
                    while (stop < text.length() && Whitespace.is(text.codePointAt(stop))) {
                        stop += Character.charCount(text.codePointAt(stop));
                    }
                }
                if (start > emitted) {
                    out.add(new Segment(text.substring(emitted, start), -1, atStart && emitted == 0));
                }
                out.add(new Segment(text.substring(start, stop), t.id(), atStart && start == 0));
                emitted = stop;
                i = stop;
            }
            if (emitted < text.length()) {
                out.add(new Segment(text.substring(emitted), -1, atStart && emitted == 0));
            }
            return out;
        }
    }
}
