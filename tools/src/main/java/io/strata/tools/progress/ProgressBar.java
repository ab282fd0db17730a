package io.strata.tools.progress;

import java.io.PrintWriter;
import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * A one-line progress bar (percentage, MiB done / total, speed, ETA, the current item), drawn by the maintained
 * {@code me.tongfei:progressbar} library in place of the hand-written one this class used to be; this class only
 * keeps Strata's call shape ({@code update}/{@code finish}) and its rule for when to show a bar at all. Output
 * goes to the command's own writer (a {@link DelegatingProgressBarConsumer}, so the library never probes the
 * terminal itself and tests can capture it); the library redraws on its own thread ten times a second. Safe to
 * call from several threads. Shown only on a terminal unless forced.
 */
public final class ProgressBar {
    private static final int MAX_LINE = 110;

    private final PrintWriter out;
    private final me.tongfei.progressbar.ProgressBar bar;
    private boolean finished;

    public ProgressBar(PrintWriter out, String label, long total) {
        this.out = out;
        this.bar = new ProgressBarBuilder().setTaskName(label).setInitialMax(Math.max(0, total))
                .setUnit(total >= 64L << 20 ? " MiB" : " KiB", total >= 64L << 20 ? 1L << 20 : 1L << 10).showSpeed().setStyle(ProgressBarStyle.ASCII)
                .setUpdateIntervalMillis(100).setMaxRenderedLength(MAX_LINE).setSpeedUnit(java.time.temporal.ChronoUnit.SECONDS)
                .setConsumer(new DelegatingProgressBarConsumer(line -> {
                    synchronized (out) {
                        out.print("\r" + line);
                        out.flush();
                    }
                }, MAX_LINE)).build();
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
        if (finished) {
            return;
        }
        bar.stepTo(done);
        bar.setExtraMessage(detail == null || detail.isEmpty() ? "" : " " + shorten(detail, 40));
    }

    /** Draws the final state and moves to the next line. */
    public synchronized void finish(long done, String detail) {
        if (finished) {
            return;
        }
        finished = true;
        bar.stepTo(done);
        bar.setExtraMessage(detail == null || detail.isEmpty() ? "" : " " + shorten(detail, 40));
        bar.close(); // renders the final state
        synchronized (out) {
            out.println();
            out.flush();
        }
    }

    private static String shorten(String s, int max) {
        return s.length() <= max ? s : "..." + s.substring(s.length() - max + 3);
    }
}
