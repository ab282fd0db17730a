package io.strata.text;

import java.util.ArrayList;
import java.util.List;

/**
 * The {@code post_processor} of a tokenizer.json: what {@code encode(text, true)} adds around the ids of a single
 * sequence (BOS/EOS and the like). Supported: TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel
 * (ids unchanged: it only trims offsets), Sequence. Pair templates are not needed for generation and are ignored.
 */
interface PostProcessor {
    int[] addSpecialTokens(int[] ids);

    PostProcessor NONE = ids -> ids;

    static PostProcessor fromJson(Spec s) {
        if (s == null) {
            return NONE;
        }
        String type = s.type();
        return switch (type) {
            case "ByteLevel" -> NONE;
            case "TemplateProcessing" -> template(s);
            case "BertProcessing", "RobertaProcessing" -> {
                int cls = idOf(s.req("cls"));
                int sep = idOf(s.req("sep"));
                yield ids -> wrap(new int[]{cls}, ids, new int[]{sep});
            }
            case "Sequence" -> {
                List<PostProcessor> steps = s.array("processors").stream().map(PostProcessor::fromJson).toList();
                yield ids -> {
                    for (PostProcessor p : steps) {
                        ids = p.addSpecialTokens(ids);
                    }
                    return ids;
                };
            }
            default -> throw s.fail("post_processor type '" + type + "' is not supported");
        };
    }

    /** A {@code ["[CLS]", 101]} pair. */
    private static int idOf(Spec pair) {
        if (!pair.node().isArray() || pair.node().size() != 2 || !pair.node().get(1).canConvertToInt()) {
            throw pair.fail("expected [token, id]");
        }
        return pair.node().get(1).asInt();
    }

    private static int[] wrap(int[] before, int[] ids, int[] after) {
        int[] out = new int[before.length + ids.length + after.length];
        System.arraycopy(before, 0, out, 0, before.length);
        System.arraycopy(ids, 0, out, before.length, ids.length);
        System.arraycopy(after, 0, out, before.length + ids.length, after.length);
        return out;
    }

    private static PostProcessor template(Spec s) {
        Spec specials = s.opt("special_tokens");
        List<int[]> before = new ArrayList<>();
        List<int[]> after = new ArrayList<>();
        boolean seenSequence = false;
        for (Spec item : s.array("single")) {
            String specialName;
            if (item.node().isTextual()) { // the "$A:0 </s>:0" shorthand
                String v = item.node().asText();
                String name = v.contains(":") ? v.substring(0, v.lastIndexOf(':')) : v;
                if (name.startsWith("$")) {
                    seenSequence = true;
                    continue;
                }
                specialName = name;
            } else if (item.has("Sequence")) {
                seenSequence = true;
                continue;
            } else if (item.has("SpecialToken")) {
                specialName = item.req("SpecialToken").str("id");
            } else {
                throw item.fail("expected a Sequence or SpecialToken item");
            }
            Spec tok = specials == null ? null : specials.opt(specialName);
            if (tok == null) {
                throw item.fail("special token '" + specialName + "' is not in special_tokens");
            }
            int[] ids = tok.array("ids").stream().mapToInt(x -> {
                if (!x.node().canConvertToInt()) {
                    throw x.fail("must be an integer");
                }
                return x.node().asInt();
            }).toArray();
            (seenSequence ? after : before).add(ids);
        }
        int[] pre = before.stream().flatMapToInt(java.util.Arrays::stream).toArray();
        int[] post = after.stream().flatMapToInt(java.util.Arrays::stream).toArray();
        return ids -> wrap(pre, ids, post);
    }
}
