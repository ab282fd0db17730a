package io.strata.server;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.strata.core.model.Tier;
import io.strata.core.telemetry.TelemetrySnapshot;
import io.strata.core.telemetry.TierStats;
import io.strata.p2p.node.PeerConnection;
import io.strata.p2p.node.PeerNode;
import java.util.ArrayDeque;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * What the status page ({@code GET /}) plots, as {@code GET /status.json}: a sample every second of each tier's
 * occupancy, budget and cumulative paged-in bytes (the page derives bandwidth from consecutive samples), tokens
 * and peer bytes, kept for the last {@link #KEEP} samples; plus, at request time, the expert-use counts per layer
 * (the heat map) and the peer list. Sampling on a timer, not per request, so the plot has a steady time axis.
 */
final class StatusFeed implements AutoCloseable {
    /** Samples kept: five minutes at one a second. */
    static final int KEEP = 300;

    private final ServeEngine engine;
    private final PeerNode node;
    private final ArrayDeque<ObjectNode> samples = new ArrayDeque<>();
    private final ScheduledExecutorService timer;

    /** Either may be null: a serve without a mesh, a peer without a model. */
    public StatusFeed(ServeEngine engine, PeerNode node, long periodMillis) {
        this.engine = engine;
        this.node = node;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "strata-status-sampler");
            t.setDaemon(true);
            return t;
        });
        sample();
        timer.scheduleAtFixedRate(this::sample, periodMillis, periodMillis, TimeUnit.MILLISECONDS);
    }

    private void sample() {
        ObjectNode s = HttpFront.JSON.createObjectNode();
        s.put("t", System.currentTimeMillis());
        if (engine != null) {
            TelemetrySnapshot snap = engine.runtime().telemetry();
            ObjectNode tiers = s.putObject("tiers");
            for (Tier t : Tier.values()) { // fastest first, as the CLI's table
                TierStats ts = snap.tiers().get(t);
                if (ts == null) {
                    continue;
                }
                ObjectNode n = tiers.putObject(t.name().toLowerCase(Locale.ROOT));
                n.put("used", ts.used());
                n.put("budget", ts.budget());
                n.put("highWater", ts.highWater());
                n.put("bytesIn", ts.bytesIn());
                n.put("hits", ts.hits());
                n.put("misses", ts.misses());
            }
            s.put("completionTokens", engine.counters().completionTokens());
            s.put("promptTokens", engine.counters().promptTokens());
            s.put("requests", engine.counters().requests());
            s.put("active", engine.activeSequences());
            engine.kvStats().ifPresent(kv -> s.put("kvFastPages", kv.fastPages()));
        }
        if (node != null) {
            s.put("bytesServed", node.bytesServed());
            s.put("bytesFetched", node.bytesFetched());
            s.put("peers", node.connections().size());
        }
        synchronized (samples) {
            samples.addLast(s);
            while (samples.size() > KEEP) {
                samples.removeFirst();
            }
        }
    }

    /** The page's JSON: {@code kind}, {@code model}, {@code samples}, {@code experts}, {@code peers}. */
    public ObjectNode json() {
        sample(); // the latest figures, so what the page shows agrees with a /metrics read right after
        ObjectNode root = HttpFront.JSON.createObjectNode();
        root.put("kind", engine != null ? "serve" : "peer");
        if (engine != null) {
            root.put("model", engine.modelId());
            root.put("parallel", engine.parallel());
            ObjectNode ex = root.putObject("experts");
            ex.put("layers", engine.layers());
            ex.put("experts", engine.experts());
            ArrayNode rows = ex.putArray("counts");
            for (int l = 0; l < engine.layers(); l++) {
                ArrayNode row = rows.addArray();
                for (int e = 0; e < engine.experts(); e++) {
                    row.add(engine.expertUse(l, e));
                }
            }
        }
        if (node != null) {
            root.put("node", node.id().hex());
            root.put("listen", node.listenAddress().toString());
            ArrayNode peers = root.putArray("peers");
            for (PeerConnection c : node.connections()) {
                ObjectNode p = peers.addObject();
                p.put("id", c.peerId() == null ? "" : c.peerId().hex());
                p.put("address", c.peerAddress() == null ? String.valueOf(c.remoteIp()) : c.peerAddress().toString());
                p.put("outbound", c.isOutbound());
                p.put("open", c.isOpen());
            }
            root.put("banned", node.bans().size());
            root.put("known", node.membership().all().size());
        }
        ArrayNode arr = root.putArray("samples");
        synchronized (samples) {
            samples.forEach(arr::add);
        }
        return root;
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
