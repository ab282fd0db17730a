package io.strata.text.chat;

import java.beans.FeatureDescriptor;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

/**
 * The Python str and dict methods chat templates call ({@code content.startswith('<tool_response>')},
 * {@code content.split('</think>')[-1].lstrip('\n')}, {@code message.get('x')} ...), which Jinjava, resolving
 * method calls against Java classes, does not have. Placed before Jinjava's own resolvers; anything else falls
 * through to them.
 */
final class PythonMethods extends ELResolver {
    @Override
    public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
        if (method == null) {
            return null;
        }
        Object[] p = params == null ? new Object[0] : params;
        Object r = switch (base) {
            case String s -> string(s, method.toString(), p);
            case Map<?, ?> m -> map(m, method.toString(), p);
            case null, default -> NONE;
        };
        if (r == NONE) {
            return null;
        }
        context.setPropertyResolved(true);
        return r;
    }

    private static final Object NONE = new Object();

    private static Object string(String s, String m, Object[] p) {
        return switch (m) {
            case "startswith" -> p.length == 1 && p[0] instanceof List<?> l
                    ? l.stream().anyMatch(x -> s.startsWith(String.valueOf(x))) : s.startsWith(str(p, 0));
            case "endswith" -> p.length == 1 && p[0] instanceof List<?> l
                    ? l.stream().anyMatch(x -> s.endsWith(String.valueOf(x))) : s.endsWith(str(p, 0));
            case "strip" -> strip(s, p.length == 0 || p[0] == null ? null : str(p, 0), true, true);
            case "lstrip" -> strip(s, p.length == 0 || p[0] == null ? null : str(p, 0), true, false);
            case "rstrip" -> strip(s, p.length == 0 || p[0] == null ? null : str(p, 0), false, true);
            case "split" -> split(s, p.length == 0 || p[0] == null ? null : str(p, 0),
                    p.length > 1 ? ((Number) p[1]).intValue() : -1);
            case "upper" -> s.toUpperCase(Locale.ROOT);
            case "lower" -> s.toLowerCase(Locale.ROOT);
            case "title" -> title(s);
            case "capitalize" -> s.isEmpty() ? s : s.substring(0, 1).toUpperCase(Locale.ROOT)
                    + s.substring(1).toLowerCase(Locale.ROOT);
            case "replace" -> p.length > 2 ? replaceCount(s, str(p, 0), str(p, 1), ((Number) p[2]).intValue())
                    : s.replace(str(p, 0), str(p, 1));
            case "find" -> (long) s.indexOf(str(p, 0));
            case "count" -> (long) count(s, str(p, 0));
            case "join" -> p.length == 1 && p[0] instanceof Collection<?> c
                    ? String.join(s, c.stream().map(String::valueOf).toList()) : NONE;
            case "splitlines" -> splitlines(s);
            case "isdigit" -> !s.isEmpty() && s.chars().allMatch(Character::isDigit);
            case "isalpha" -> !s.isEmpty() && s.chars().allMatch(Character::isLetter);
            case "isspace" -> !s.isEmpty() && s.chars().allMatch(Character::isWhitespace);
            default -> NONE;
        };
    }

    private static Object map(Map<?, ?> m, String name, Object[] p) {
        return switch (name) {
            case "get" -> p.length == 0 ? NONE : m.containsKey(p[0]) ? m.get(p[0]) : (p.length > 1 ? p[1] : null);
            case "items" -> {
                List<List<Object>> out = new ArrayList<>();
                m.forEach((k, v) -> out.add(java.util.Arrays.asList(k, v)));
                yield out;
            }
            case "keys" -> new ArrayList<>(m.keySet());
            case "values" -> new ArrayList<>(m.values());
            default -> NONE;
        };
    }

    private static String str(Object[] p, int i) {
        if (i >= p.length) {
            throw new IllegalArgumentException("missing argument");
        }
        return String.valueOf(p[i]);
    }

    /** Python strip: whitespace by default, else any of the given characters. */
    static String strip(String s, String chars, boolean left, boolean right) {
        int b = 0;
        int e = s.length();
        while (left && b < e && (chars == null ? space(s.charAt(b)) : chars.indexOf(s.charAt(b)) >= 0)) {
            b++;
        }
        while (right && e > b && (chars == null ? space(s.charAt(e - 1))
                : chars.indexOf(s.charAt(e - 1)) >= 0)) {
            e--;
        }
        return s.substring(b, e);
    }

    /** Python split: on runs of whitespace without a separator, else on the separator, at most maxsplit times. */
    static List<String> split(String s, String sep, int maxsplit) {
        List<String> out = new ArrayList<>();
        if (sep == null) {
            String t = s.strip();
            if (t.isEmpty()) {
                return out;
            }
            String[] parts = maxsplit < 0 ? t.split("\\s+") : t.split("\\s+", maxsplit + 1);
            out.addAll(List.of(parts));
            return out;
        }
        int from = 0;
        while (maxsplit < 0 || out.size() < maxsplit) {
            int i = s.indexOf(sep, from);
            if (i < 0) {
                break;
            }
            out.add(s.substring(from, i));
            from = i + sep.length();
        }
        out.add(s.substring(from));
        return out;
    }

    private static List<String> splitlines(String s) {
        List<String> out = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\n' || c == '\r') {
                out.add(s.substring(start, i));
                if (c == '\r' && i + 1 < s.length() && s.charAt(i + 1) == '\n') {
                    i++;
                }
                start = i + 1;
            }
        }
        if (start < s.length()) {
            out.add(s.substring(start));
        }
        return out;
    }

    private static boolean space(char c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c);
    }

    private static String replaceCount(String s, String a, String b, int count) {
        StringBuilder out = new StringBuilder();
        int from = 0;
        for (int n = 0; n < count; n++) {
            int i = s.indexOf(a, from);
            if (i < 0) {
                break;
            }
            out.append(s, from, i).append(b);
            from = i + a.length();
        }
        return out.append(s.substring(from)).toString();
    }

    private static int count(String s, String sub) {
        if (sub.isEmpty()) {
            return s.length() + 1;
        }
        int n = 0;
        for (int i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + sub.length())) {
            n++;
        }
        return n;
    }

    private static String title(String s) {
        StringBuilder b = new StringBuilder(s.length());
        boolean prevLetter = false;
        for (char c : s.toCharArray()) {
            b.append(prevLetter ? Character.toLowerCase(c) : Character.toUpperCase(c));
            prevLetter = Character.isLetter(c);
        }
        return b.toString();
    }

    @Override
    public Object getValue(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public Class<?> getType(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public void setValue(ELContext context, Object base, Object property, Object value) {
    }

    @Override
    public boolean isReadOnly(ELContext context, Object base, Object property) {
        return true;
    }

    @Override
    public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
        return null;
    }

    @Override
    public Class<?> getCommonPropertyType(ELContext context, Object base) {
        return null;
    }
}
