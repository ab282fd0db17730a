package io.strata.tools.generate;

import java.io.Writer;
import java.util.ArrayList;
import java.util.List;

/** A Writer that records what was written between flushes: one chunk per flush that had something to send. */
public final class FlushRecorder extends Writer {
    public final List<String> chunks = new ArrayList<>();
    private final StringBuilder pending = new StringBuilder();

    @Override
    public void write(char[] cbuf, int off, int len) {
        pending.append(cbuf, off, len);
    }

    @Override
    public void flush() {
        if (!pending.isEmpty()) {
            chunks.add(pending.toString());
            pending.setLength(0);
        }
    }

    @Override
    public void close() {
        flush();
    }
}
