package io.strata.core.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.core.model.Tier;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TelemetryTest {
    @Test
    void countersAddUpAndBandwidthFollowsFromIoTime() {
        TierCounters c = new TierCounters(Tier.HOST);
        c.hit();
        c.hit();
        c.miss();
        c.pageIn("L0/E1", Tier.DISK, 1_000_000, 1_000_000); // 1 MB in 1 ms
        c.stall(500);
        c.evicted("L0/E1", 1_000_000);
        TierStats s = c.snapshot(4096, 8192, 0);
        assertEquals(2, s.hits());
        assertEquals(1, s.misses());
        assertEquals(1, s.evictions());
        assertEquals(2.0 / 3, s.hitRate(), 1e-12);
        assertEquals(1e9, s.bandwidth(), 1e-3);
        assertEquals(4096, s.highWater());
        TelemetrySnapshot snap = new TelemetrySnapshot(Map.of(Tier.HOST, s), new PrefetchStats(4, 3, 1, 0), 500);
        assertTrue(snap.format().contains("host"), snap.format());
        assertEquals(0.75, snap.prefetch().accuracy(), 1e-12);
    }

    @Test
    void pageInsAndEvictionsAreJfrEvents(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("rec.jfr");
        try (Recording r = new Recording()) {
            r.enable("io.strata.PageIn");
            r.enable("io.strata.Eviction");
            r.start();
            TierCounters c = new TierCounters(Tier.DEVICE);
            c.pageIn("L3/E5", Tier.HOST, 12345, 678);
            c.evicted("L3/E5", 12345);
            r.stop();
            r.dump(file);
        }
        List<RecordedEvent> events = RecordingFile.readAllEvents(file);
        RecordedEvent in = events.stream().filter(e -> e.getEventType().getName().equals("io.strata.PageIn"))
                .findFirst().orElseThrow();
        assertEquals("L3/E5", in.getString("what"));
        assertEquals("HOST", in.getString("from"));
        assertEquals("DEVICE", in.getString("to"));
        assertEquals(12345, in.getLong("bytes"));
        assertTrue(events.stream().anyMatch(e -> e.getEventType().getName().equals("io.strata.Eviction")
                && e.getLong("bytes") == 12345));
    }
}
