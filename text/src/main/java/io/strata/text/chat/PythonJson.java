package io.strata.text.chat;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.Filter;
import java.util.Collection;
import java.util.Map;

/**
 * The {@code tojson} filter as Hugging Face's chat-template environment defines it: Python's
 * {@code json.dumps(x, ensure_ascii=False, indent=indent)}, so ", " and ": " separators (or one item per line
 * with {@code indent}), keys in insertion order, non-ASCII kept. Jinjava's own tojson is compact Jackson output,
 * which would change the prompt (and so the ids) of every template that renders tools.
 */
final class PythonJson implements Filter {
    @Override
    public String getName() {
        return "tojson";
    }

    @Override
    public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
        return dumps(var, args.length > 0 && args[0] != null ? Integer.parseInt(args[0].trim()) : -1);
    }

    @Override
    public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
        Object indent = kwargs.get("indent");
        if (indent == null && args.length > 0) {
            indent = args[0];
        }
        return dumps(var, indent == null ? -1 : ((Number) indent).intValue());
    }

    static String dumps(Object v, int indent) {
        StringBuilder b = new StringBuilder();
        write(b, v, indent, 0);
        return b.toString();
    }

    private static void write(StringBuilder b, Object v, int indent, int depth) {
        switch (v) {
            case null -> b.append("null");
            case Boolean x -> b.append(x ? "true" : "false");
            case Double d when d.isNaN() -> b.append("NaN");
            case Float f when f.isNaN() -> b.append("NaN");
            case Double d when d == Math.rint(d) && !d.isInfinite() && Math.abs(d) < 1e16 -> b.append(d.longValue()).append(".0");
            case Number n -> b.append(n);
            case CharSequence s -> string(b, s.toString());
            case Map<?, ?> m -> {
                if (m.isEmpty()) {
                    b.append("{}");
                    return;
                }
                b.append('{');
                boolean first = true;
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    b.append(first ? "" : indent >= 0 ? "," : ", ");
                    newline(b, indent, depth + 1);
                    string(b, String.valueOf(e.getKey()));
                    b.append(": ");
                    write(b, e.getValue(), indent, depth + 1);
                    first = false;
                }
                newline(b, indent, depth);
                b.append('}');
            }
            case Collection<?> c -> array(b, c.toArray(), indent, depth);
            case Object[] a -> array(b, a, indent, depth);
            default -> string(b, v.toString());
        }
    }

    private static void array(StringBuilder b, Object[] a, int indent, int depth) {
        if (a.length == 0) {
            b.append("[]");
            return;
        }
        b.append('[');
        for (int i = 0; i < a.length; i++) {
            b.append(i == 0 ? "" : indent >= 0 ? "," : ", ");
            newline(b, indent, depth + 1);
            write(b, a[i], indent, depth + 1);
        }
        newline(b, indent, depth);
        b.append(']');
    }

    private static void newline(StringBuilder b, int indent, int depth) {
        if (indent >= 0) {
            b.append('\n').append(" ".repeat(indent * depth));
        }
    }

    private static void string(StringBuilder b, String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                case '\b' -> b.append("\\b");
                case '\f' -> b.append("\\f");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        b.append('"');
    }
}
