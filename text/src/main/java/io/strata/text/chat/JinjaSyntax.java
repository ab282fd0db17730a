package io.strata.text.chat;

/**
 * Rewrites the two pieces of Python/Jinja2 expression syntax that Jinjava's parser rejects or reads differently,
 * inside {@code {{ }}} and {@code {% %}} only (never in text or string literals):
 * <ul>
 * <li>{@code seq[::-1]} (Qwen's reversed message loop) becomes {@code seq|reverse}; other stepped slices are
 * refused with a clear error rather than mis-rendered.</li>
 * <li>A keyword argument whose value has an operator, {@code namespace(last=messages|length - 1)}, gets its
 * value parenthesised: Jinjava binds {@code name=value} tighter than {@code -}.</li>
 * </ul>
 */
final class JinjaSyntax {
    private JinjaSyntax() {
    }

    static String rewrite(String template) {
        StringBuilder out = new StringBuilder(template.length() + 32);
        int i = 0;
        while (i < template.length()) {
            int open = nextOpen(template, i);
            if (open < 0) {
                out.append(template, i, template.length());
                break;
            }
            out.append(template, i, open + 2);
            String close = template.charAt(open + 1) == '{' ? "}}" : "%}";
            int end = findClose(template, open + 2, close);
            if (end < 0) {
                out.append(template, open + 2, template.length());
                break;
            }
            String body = template.substring(open + 2, end);
            String head = body.stripLeading().startsWith("-") ? body.stripLeading().substring(1).stripLeading()
                    : body.stripLeading();
            // macro signatures hold parameter defaults, not keyword arguments
            out.append(head.startsWith("macro ") ? body : expression(body));
            i = end;
        }
        return out.toString();
    }

    private static int nextOpen(String t, int from) {
        int a = t.indexOf("{{", from);
        int b = t.indexOf("{%", from);
        int c = t.indexOf("{#", from);
        int min = -1;
        for (int x : new int[]{a, b}) {
            if (x >= 0 && (min < 0 || x < min)) {
                min = x;
            }
        }
        if (c >= 0 && (min < 0 || c < min)) { // skip a comment entirely
            int end = t.indexOf("#}", c + 2);
            return end < 0 ? -1 : nextOpen(t, end + 2);
        }
        return min;
    }

    /** The index of the closing delimiter, skipping string literals. */
    private static int findClose(String t, int from, String close) {
        char quote = 0;
        for (int i = from; i < t.length(); i++) {
            char c = t.charAt(i);
            if (quote != 0) {
                if (c == '\\') {
                    i++;
                } else if (c == quote) {
                    quote = 0;
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
            } else if (t.startsWith(close, i)) {
                return i;
            }
        }
        return -1;
    }

    /** Rewrites one tag or expression body. */
    static String expression(String e) {
        StringBuilder out = new StringBuilder(e.length() + 8);
        // stack of open brackets; for '(' of a call we track whether we are inside a keyword value
        char[] stack = new char[e.length() + 1];
        boolean[] kwOpen = new boolean[e.length() + 1];
        int depth = 0;
        char quote = 0;
        for (int i = 0; i < e.length(); i++) {
            char c = e.charAt(i);
            if (quote != 0) {
                out.append(c);
                if (c == '\\' && i + 1 < e.length()) {
                    out.append(e.charAt(++i));
                } else if (c == quote) {
                    quote = 0;
                }
                continue;
            }
            if (c == '\'' || c == '"') {
                quote = c;
                out.append(c);
                continue;
            }
            if (c == '[' && isReverseSlice(e, i)) {
                out.append("|reverse");
                i = e.indexOf(']', i);
                continue;
            }
            if (c == '[' && isSteppedSlice(e, i)) {
                throw new IllegalArgumentException("slice with a step other than [::-1] is not supported: "
                        + e.substring(i, e.indexOf(']', i) + 1));
            }
            if (c == '(' || c == '[' || c == '{') {
                stack[++depth] = c;
                kwOpen[depth] = false;
                out.append(c);
                continue;
            }
            if (c == ')' || c == ']' || c == '}') {
                if (depth > 0 && stack[depth] == '(' && kwOpen[depth]) {
                    out.append(')');
                }
                depth = Math.max(0, depth - 1);
                out.append(c);
                continue;
            }
            if (c == ',' && depth > 0 && stack[depth] == '(' && kwOpen[depth]) {
                out.append(')');
                kwOpen[depth] = false;
                out.append(c);
                continue;
            }
            if (c == '=' && depth > 0 && stack[depth] == '(' && !kwOpen[depth] && isKeywordEquals(e, i)) {
                out.append("=(");
                kwOpen[depth] = true;
                continue;
            }
            out.append(c);
        }
        return out.toString();
    }

    /** {@code name=} directly after {@code (} or {@code ,}: not ==, <=, >=, !=. */
    private static boolean isKeywordEquals(String e, int i) {
        if (i + 1 < e.length() && e.charAt(i + 1) == '=') {
            return false;
        }
        int j = i - 1;
        while (j >= 0 && e.charAt(j) == ' ') {
            j--;
        }
        int end = j;
        while (j >= 0 && (Character.isLetterOrDigit(e.charAt(j)) || e.charAt(j) == '_')) {
            j--;
        }
        if (end == j) {
            return false; // no identifier before '=': '<=', '!=', ...
        }
        while (j >= 0 && e.charAt(j) == ' ') {
            j--;
        }
        return j >= 0 && (e.charAt(j) == '(' || e.charAt(j) == ',');
    }

    private static boolean isReverseSlice(String e, int i) {
        return e.substring(i).replace(" ", "").startsWith("[::-1]");
    }

    private static boolean isSteppedSlice(String e, int i) {
        int close = e.indexOf(']', i);
        if (close < 0) {
            return false;
        }
        String inner = e.substring(i + 1, close);
        return inner.chars().filter(ch -> ch == ':').count() == 2 && !inner.contains("(") && !inner.contains("'")
                && !inner.contains("\"");
    }
}
