package io.strata.text;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a Split-style pre-tokenizer does with the stretches its pattern matches (Hugging Face's
 * SplitDelimiterBehavior): drop them, keep them alone, glue them to the previous or next stretch, or merge runs.
 * With {@code invert} the pattern marks the pieces to keep and what lies between is the delimiter.
 */
enum SplitBehavior {
    REMOVED, ISOLATED, MERGED_WITH_PREVIOUS, MERGED_WITH_NEXT, CONTIGUOUS;

    static SplitBehavior fromJson(Spec s, String field, SplitBehavior dflt) {
        if (!s.has(field)) {
            return dflt;
        }
        String v = s.str(field);
        return switch (v) {
            case "Removed" -> REMOVED;
            case "Isolated" -> ISOLATED;
            case "MergedWithPrevious" -> MERGED_WITH_PREVIOUS;
            case "MergedWithNext" -> MERGED_WITH_NEXT;
            case "Contiguous" -> CONTIGUOUS;
            default -> throw s.req(field).fail("unknown split behavior '" + v + "'");
        };
    }

    /** Splits {@code text} at the matches of {@code p}; empty pieces are dropped, as Hugging Face drops them. */
    void split(Pattern p, boolean invert, String text, boolean atStart, List<Piece> out) {
        // segments as start, end, isMatch triples covering the whole text
        List<int[]> segs = new ArrayList<>();
        Matcher m = p.matcher(text);
        int prev = 0;
        while (m.find()) {
            if (m.start() > prev) {
                segs.add(new int[]{prev, m.start(), invert ? 1 : 0});
            }
            segs.add(new int[]{m.start(), m.end(), invert ? 0 : 1});
            prev = m.end();
        }
        if (prev < text.length()) {
            segs.add(new int[]{prev, text.length(), invert ? 1 : 0});
        }
        List<int[]> kept = new ArrayList<>(segs.size());
        switch (this) {
            case ISOLATED -> kept.addAll(segs);
            case REMOVED -> {
                for (int[] s : segs) {
                    if (s[2] == 0) {
                        kept.add(s);
                    }
                }
            }
            case CONTIGUOUS -> {
                for (int[] s : segs) {
                    if (!kept.isEmpty() && kept.getLast()[2] == s[2] && s[2] == 1) {
                        kept.getLast()[1] = s[1];
                    } else {
                        kept.add(s.clone());
                    }
                }
            }
            case MERGED_WITH_PREVIOUS -> {
                boolean prevMatch = false;
                for (int[] s : segs) {
                    if (s[2] == 1 && !prevMatch && !kept.isEmpty()) {
                        kept.getLast()[1] = s[1];
                    } else {
                        kept.add(s.clone());
                    }
                    prevMatch = s[2] == 1;
                }
            }
            case MERGED_WITH_NEXT -> {
                boolean prevMatch = false;
                List<int[]> rev = new ArrayList<>();
                for (int i = segs.size() - 1; i >= 0; i--) {
                    int[] s = segs.get(i);
                    if (s[2] == 1 && !prevMatch && !rev.isEmpty()) {
                        rev.getLast()[0] = s[0];
                    } else {
                        rev.add(s.clone());
                    }
                    prevMatch = s[2] == 1;
                }
                kept.addAll(rev.reversed());
            }
        }
        for (int[] s : kept) {
            if (s[1] > s[0]) {
                out.add(new Piece(text.substring(s[0], s[1]), atStart && s[0] == 0));
            }
        }
    }
}
