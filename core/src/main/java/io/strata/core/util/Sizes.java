package io.strata.core.util;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Human byte sizes: parses {@code 512MiB}, {@code 4GiB}, {@code 64M}, {@code 1048576}; formats the other way. */
public final class Sizes {
    private static final Pattern SIZE = Pattern.compile("(?i)\\s*(\\d+(?:\\.\\d+)?)\\s*([kmgt]?)(i?b?)\\s*");

    private Sizes() {
    }

    /** Parses a size; binary units (KiB = 1024) whether or not the {@code i} is written. */
    public static long parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("size is missing");
        }
        Matcher m = SIZE.matcher(text);
        if (!m.matches()) {
            throw new IllegalArgumentException("not a size: '" + text + "' (expected e.g. 512MiB, 4GiB, 1048576)");
        }
        double n = Double.parseDouble(m.group(1));
        int shift = switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "k" -> 10;
            case "m" -> 20;
            case "g" -> 30;
            case "t" -> 40;
            default -> 0;
        };
        double bytes = n * (1L << shift);
        if (bytes > Long.MAX_VALUE) {
            throw new IllegalArgumentException("size too large: '" + text + "'");
        }
        return (long) bytes;
    }

    public static String format(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, v >= 100 ? "%.0f %s" : "%.1f %s", v, units[u]);
    }

    /**
     * The product of non-negative sizes, saturated at {@link Long#MAX_VALUE} instead of wrapping negative: a plan
     * for an absurd configuration then reads "does not fit" rather than a negative size that "fits".
     */
    public static long times(long... factors) {
        long r = 1;
        for (long f : factors) {
            if (f < 0) {
                throw new IllegalArgumentException("negative size factor " + f);
            }
            try {
                r = Math.multiplyExact(r, f);
            } catch (ArithmeticException e) {
                return f == 0 || containsZero(factors) ? 0 : Long.MAX_VALUE;
            }
        }
        return r;
    }

    /** The sum of non-negative sizes, saturated at {@link Long#MAX_VALUE}. */
    public static long plus(long... terms) {
        long r = 0;
        for (long t : terms) {
            if (t < 0) {
                throw new IllegalArgumentException("negative size term " + t);
            }
            r = t > Long.MAX_VALUE - r ? Long.MAX_VALUE : r + t;
        }
        return r;
    }

    /** True when {@code bytes} is the saturated value of {@link #times}/{@link #plus}: too large to represent. */
    public static boolean saturated(long bytes) {
        return bytes == Long.MAX_VALUE;
    }

    private static boolean containsZero(long[] a) {
        for (long v : a) {
            if (v == 0) {
                return true;
            }
        }
        return false;
    }

    /** Rounds up to a multiple of a power-of-two alignment. */
    public static long alignUp(long value, long alignment) {
        if (Long.bitCount(alignment) != 1) {
            throw new IllegalArgumentException("alignment must be a power of two: " + alignment);
        }
        return (value + alignment - 1) & -alignment;
    }
}
