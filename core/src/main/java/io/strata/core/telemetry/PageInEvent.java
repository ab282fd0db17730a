package io.strata.core.telemetry;

import io.strata.core.model.Tier;
import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.Timespan;

/** JFR event: bytes of one expert or tensor moved into a faster tier. */
@Name("io.strata.PageIn")
@Label("Strata page-in")
@Category("Strata")
@Description("An expert or tensor copied into a faster tier")
final class PageInEvent extends Event {
    @Label("What")
    String what;
    @Label("From tier")
    String from;
    @Label("To tier")
    String to;
    @Label("Bytes")
    @DataAmount
    long bytes;
    @Label("Duration of the copy")
    @Timespan
    long nanos;

    static void emit(String what, Tier from, Tier to, long bytes, long nanos) {
        PageInEvent e = new PageInEvent();
        if (e.shouldCommit()) {
            e.what = what;
            e.from = from == null ? null : from.name();
            e.to = to.name();
            e.bytes = bytes;
            e.nanos = nanos;
            e.commit();
        }
    }
}
