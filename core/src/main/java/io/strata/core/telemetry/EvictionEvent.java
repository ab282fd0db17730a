package io.strata.core.telemetry;

import io.strata.core.model.Tier;
import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;

/** JFR event: an entry dropped from a tier to make room. */
@Name("io.strata.Eviction")
@Label("Strata eviction")
@Category("Strata")
@Description("An expert or page evicted from a tier")
final class EvictionEvent extends Event {
    @Label("What")
    String what;
    @Label("Tier")
    String tier;
    @Label("Bytes")
    @DataAmount
    long bytes;

    static void emit(String what, Tier tier, long bytes) {
        EvictionEvent e = new EvictionEvent();
        if (e.shouldCommit()) {
            e.what = what;
            e.tier = tier.name();
            e.bytes = bytes;
            e.commit();
        }
    }
}
