package io.strata.server;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A strict parser of the Prometheus text exposition format 0.0.4 for tests (no parser artifact is published
 * for the Java client): every sample's family must be declared by a {@code # TYPE} line first, names and label
 * names must be valid, label values properly escaped, values numbers, no series twice, and a histogram's buckets
 * cumulative, ending in {@code le="+Inf"} equal to its {@code _count}.
 */
final class PromText {
    private static final Pattern NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\\\n]|\\\\[\\\\\"n])*)\"");

    /** Series key ({@code name{a="x",b="y"}}, labels sorted) to value. */
    final Map<String, Double> samples = new LinkedHashMap<>();
    final Map<String, String> types = new HashMap<>();

    static PromText parse(String text) {
        PromText p = new PromText();
        int n = 0;
        for (String line : text.split("\n", -1)) {
            n++;
            if (line.isEmpty()) {
                continue;
            }
            if (line.startsWith("#")) {
                String[] f = line.split(" ", 4);
                if (f.length >= 3 && f[1].equals("TYPE")) {
                    require(NAME.matcher(f[2]).matches(), n, "bad family name " + f[2]);
                    require(f.length == 4 && f[3].matches("counter|gauge|histogram|summary|untyped"), n,
                            "bad TYPE line: " + line);
                    require(p.types.put(f[2], f[3]) == null, n, "family declared twice: " + f[2]);
                }
                continue;
            }
            int brace = line.indexOf('{');
            int space = brace >= 0 ? line.indexOf(' ', line.lastIndexOf('}')) : line.indexOf(' ');
            require(space > 0, n, "no value: " + line);
            String name = brace >= 0 ? line.substring(0, brace) : line.substring(0, space);
            require(NAME.matcher(name).matches(), n, "bad metric name " + name);
            TreeMap<String, String> labels = new TreeMap<>();
            if (brace >= 0) {
                String body = line.substring(brace + 1, line.lastIndexOf('}'));
                Matcher m = LABEL.matcher(body);
                int at = 0;
                while (at < body.length()) {
                    require(m.find(at) && m.start() == at, n, "bad labels: " + body);
                    require(labels.put(m.group(1), m.group(2)) == null, n, "label twice: " + m.group(1));
                    at = m.end();
                    if (at < body.length()) {
                        require(body.charAt(at) == ',', n, "bad labels: " + body);
                        at++;
                    }
                }
            }
            String[] rest = line.substring(space + 1).split(" ");
            require(rest.length <= 2, n, "trailing junk: " + line);
            double v = value(rest[0], n);
            require(p.family(name) != null, n, "sample before its # TYPE: " + name);
            String key = key(name, labels);
            require(p.samples.put(key, v) == null, n, "series twice: " + key);
        }
        p.checkHistograms();
        return p;
    }

    private String family(String name) {
        if (types.containsKey(name)) {
            return name;
        }
        for (String suffix : new String[]{"_total", "_bucket", "_count", "_sum", "_created", "_max"}) {
            if (name.endsWith(suffix) && types.containsKey(name.substring(0, name.length() - suffix.length()))) {
                return name.substring(0, name.length() - suffix.length());
            }
        }
        return null;
    }

    private void checkHistograms() {
        for (Map.Entry<String, String> t : types.entrySet()) {
            if (!t.getValue().equals("histogram")) {
                continue;
            }
            String f = t.getKey();
            double last = -1;
            double inf = Double.NaN;
            for (Map.Entry<String, Double> s : samples.entrySet()) {
                if (s.getKey().startsWith(f + "_bucket{")) {
                    require(s.getValue() >= last, 0, f + ": buckets not cumulative at " + s.getKey());
                    last = s.getValue();
                    if (s.getKey().contains("le=\"+Inf\"")) {
                        inf = s.getValue();
                    }
                }
            }
            require(!Double.isNaN(inf), 0, f + ": no +Inf bucket");
            Double count = samples.entrySet().stream().filter(s -> s.getKey().startsWith(f + "_count"))
                    .map(Map.Entry::getValue).findFirst().orElse(null);
            require(count != null && count == inf, 0, f + ": +Inf bucket " + inf + " != _count " + count);
        }
    }

    private static double value(String s, int line) {
        return switch (s) {
            case "+Inf" -> Double.POSITIVE_INFINITY;
            case "-Inf" -> Double.NEGATIVE_INFINITY;
            case "NaN" -> Double.NaN;
            default -> {
                try {
                    yield Double.parseDouble(s);
                } catch (NumberFormatException e) {
                    throw new AssertionError("line " + line + ": bad value " + s);
                }
            }
        };
    }

    static String key(String name, Map<String, String> labels) {
        if (labels.isEmpty()) {
            return name;
        }
        StringBuilder b = new StringBuilder(name).append('{');
        labels.forEach((k, v) -> b.append(b.charAt(b.length() - 1) == '{' ? "" : ",").append(k).append("=\"")
                .append(v).append('"'));
        return b.append('}').toString();
    }

    /** The value of {@code name} with exactly these labels ("k", "v", ...); fails when absent. */
    double get(String name, String... kv) {
        TreeMap<String, String> labels = new TreeMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            labels.put(kv[i], kv[i + 1]);
        }
        Double v = samples.get(key(name, labels));
        if (v == null) {
            throw new AssertionError("no series " + key(name, labels) + " in /metrics");
        }
        return v;
    }

    /** Sum over every series of {@code name} whatever its labels. */
    double sum(String name) {
        return samples.entrySet().stream().filter(e -> e.getKey().equals(name) || e.getKey().startsWith(name + "{"))
                .mapToDouble(Map.Entry::getValue).sum();
    }

    private static void require(boolean ok, int line, String what) {
        if (!ok) {
            throw new AssertionError((line > 0 ? "line " + line + ": " : "") + what);
        }
    }
}
