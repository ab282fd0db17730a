package io.strata.text;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/**
 * A JSON node of a tokenizer file together with where it sits ({@code tokenizer.json: pre_tokenizer.pretokenizers[1]}),
 * so every component that reads its configuration reports a bad or unsupported value with file and field.
 */
record Spec(String file, String path, JsonNode node) {

    static Spec root(String file, JsonNode node) {
        return new Spec(file, "", node);
    }

    String where() {
        return path.isEmpty() ? file : file + ": " + path;
    }

    TokenizerException fail(String reason) {
        return new TokenizerException(where() + ": " + reason);
    }

    private String sub(String name) {
        return path.isEmpty() ? name : path + "." + name;
    }

    boolean has(String name) {
        JsonNode n = node.get(name);
        return n != null && !n.isNull();
    }

    /** The child object or value {@code name}; null when absent or JSON null. */
    Spec opt(String name) {
        JsonNode n = node.get(name);
        return n == null || n.isNull() ? null : new Spec(file, sub(name), n);
    }

    Spec req(String name) {
        Spec s = opt(name);
        if (s == null) {
            throw new TokenizerException(where() + ": missing field '" + name + "'");
        }
        return s;
    }

    String type() {
        Spec t = req("type");
        if (!t.node.isTextual()) {
            throw t.fail("must be a string");
        }
        return t.node.asText();
    }

    String str(String name) {
        Spec s = req(name);
        if (!s.node.isTextual()) {
            throw s.fail("must be a string");
        }
        return s.node.asText();
    }

    String str(String name, String dflt) {
        return has(name) ? str(name) : dflt;
    }

    boolean bool(String name, boolean dflt) {
        Spec s = opt(name);
        if (s == null) {
            return dflt;
        }
        if (!s.node.isBoolean()) {
            throw s.fail("must be true or false");
        }
        return s.node.asBoolean();
    }

    int integer(String name, int dflt) {
        Spec s = opt(name);
        if (s == null) {
            return dflt;
        }
        if (!s.node.canConvertToInt() || !s.node.isIntegralNumber()) {
            throw s.fail("must be an integer");
        }
        return s.node.asInt();
    }

    /** The elements of the array {@code name}, each with its index in its path. */
    List<Spec> array(String name) {
        Spec s = req(name);
        if (!s.node.isArray()) {
            throw s.fail("must be an array");
        }
        List<Spec> out = new ArrayList<>(s.node.size());
        for (int i = 0; i < s.node.size(); i++) {
            out.add(new Spec(file, s.path + "[" + i + "]", s.node.get(i)));
        }
        return out;
    }

    /** A {@code {"String": "..."}} or {@code {"Regex": "..."}} pattern object as a compiled Java pattern. */
    java.util.regex.Pattern pattern(String name) {
        Spec p = req(name);
        if (p.has("String")) {
            return java.util.regex.Pattern.compile(java.util.regex.Pattern.quote(p.str("String")));
        }
        if (p.has("Regex")) {
            return OnigRegex.compile(p.str("Regex"), p.req("Regex"));
        }
        throw p.fail("expected {\"String\": ...} or {\"Regex\": ...}");
    }
}
