package io.strata.tools.progress;

import io.strata.core.util.Sizes;
import java.io.PrintWriter;
import java.util.Locale;

/**
 * A one-line progress bar redrawn in place with {@code \r}: percentage, bytes done / total, throughput. Redraws
 * at most ten times a second; safe to call from several threads. Shown only on a terminal unless forced.
 */
public final class ProgressBar {
    private static final int WIDTH = 30;
    private static final long REDRAW_NANOS = 100_000_000L;

    private final PrintWriter out;
    private final String label;
    private final long total;
    private final long startNanos = System.nanoTime();
    private long lastDraw;
    private int lastLength;
    private boolean finished;

    public ProgressBar(PrintWriter out, String label, long total) {
        this.out = out;
        this.label = label;
        this.total = Math.max(0, total);
    }

    /** Whether to draw: {@code --quiet} wins, then {@code --progress}, else only on an interactive terminal. */
    public static boolean wanted(boolean quiet, boolean forced) {
        if (quiet) {
            return false;
        }
        // Since JDK 22 System.console() exists even when redirected; isTerminal() tells a real terminal.
        java.io.Console c = System.console();
        return forced || (c != null && c.isTerminal());
    }

    public synchronized void update(long done, String detail) {
        long now = System.nanoTime();
        if (finished || (now - lastDraw < REDRAW_NANOS && done < total)) {
            return;
        }
        lastDraw = now;
        draw(done, detail, now);
    }

    /** Draws the final state and moves to the next line. */
    public synchronized void finish(long done, String detail) {
        if (finished) {
            return;
        }
        draw(done, detail, System.nanoTime());
        out.println();
        out.flush();
        finished = true;
    }

    private void draw(long done, String detail, long now) {
        double frac = total == 0 ? 1 : Math.min(1, (double) done / total);
        int filled = (int) Math.round(frac * WIDTH);
        double secs = Math.max(1e-9, (now - startNanos) / 1e9);
        String line = String.format(Locale.ROOT, "%s [%s%s] %3.0f%% %s / %s  %.0f MB/s%s", label,
                "#".repeat(filled), " ".repeat(WIDTH - filled), frac * 100, Sizes.format(done), Sizes.format(total),
                done / secs / 1e6, detail == null || detail.isEmpty() ? "" : "  " + shorten(detail, 48));
        int pad = Math.max(0, lastLength - line.length());
        out.print("\r" + line + " ".repeat(pad));
        out.flush();
        lastLength = line.length();
    }

    private static String shorten(String s, int max) {
        return s.length() <= max ? s : "..." + s.substring(s.length() - max + 3);
    }
}
