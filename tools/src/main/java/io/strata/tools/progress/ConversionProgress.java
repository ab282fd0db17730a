package io.strata.tools.progress;

import io.strata.storage.convert.ProgressListener;
import java.io.PrintWriter;

/** Shows a conversion's progress as a {@link ProgressBar}. */
public final class ConversionProgress implements ProgressListener {
    private final PrintWriter out;
    private ProgressBar bar;
    private long done;
    private String tensor = "";

    public ConversionProgress(PrintWriter out) {
        this.out = out;
    }

    @Override
    public void start(long totalBytes, int shards) {
        bar = new ProgressBar(out, "converting", totalBytes);
        bar.update(0, shards + " shards");
    }

    @Override
    public void advance(long bytes, String tensorName) {
        done += bytes;
        tensor = tensorName;
        bar.update(done, tensorName);
    }

    @Override
    public void finish(boolean success) {
        if (bar != null) {
            bar.finish(done, success ? "done" : "failed at " + tensor);
        }
    }
}
