package io.strata.server;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.strata.core.model.Tier;
import io.strata.core.telemetry.PageInObservers;
import io.strata.core.telemetry.TelemetrySnapshot;
import io.strata.core.telemetry.TierStats;
import io.strata.loader.kv.KvStats;
import io.strata.p2p.node.PeerNode;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * The Prometheus view ({@code GET /metrics}) of a serving runtime or a peer node, through Micrometer's Prometheus
 * registry. The source of truth stays the runtime's own telemetry ({@link TelemetrySnapshot}, {@link KvStats},
 * {@link ServerCounters}, {@link PeerNode} counters): meters here are functions read at scrape time (one snapshot
 * per scrape), except the page-in latency histogram, which needs every page-in and is fed by
 * {@link PageInObservers}. Names: {@code strata_tier_*{tier}}, {@code strata_prefetch_*}, {@code strata_kv_*},
 * {@code strata_requests_*}, {@code strata_*_tokens_*}, {@code strata_peer_*}.
 */
final class StrataMetrics implements AutoCloseable {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private AutoCloseable observer;
    /** Micrometer holds a function meter's state object weakly: the snapshot suppliers are kept here. */
    private final java.util.List<Object> keep = new java.util.ArrayList<>();

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    private final java.util.concurrent.atomic.AtomicLong scrapes = new java.util.concurrent.atomic.AtomicLong();

    /** The Prometheus text exposition (format 0.0.4); every scrape reads fresh snapshots. */
    public String scrape() {
        scrapes.incrementAndGet();
        return registry.scrape();
    }

    /** Tier, prefetch, KV, request and token meters of {@code engine}. */
    public StrataMetrics bindEngine(ServeEngine engine) {
        Supplier<TelemetrySnapshot> snap = cached(() -> engine.runtime().telemetry());
        keep.add(snap);
        for (Tier t : snap.get().tiers().keySet()) {
            Tags tags = Tags.of("tier", t.name().toLowerCase(Locale.ROOT));
            tierGauge("strata.tier.used", "bytes held in the tier now", tags, snap, t, TierStats::used);
            tierGauge("strata.tier.budget", "the tier's byte budget (-1: none)", tags, snap, t, TierStats::budget);
            tierGauge("strata.tier.high.water", "most bytes the tier held", tags, snap, t, TierStats::highWater);
            tierCounter("strata.tier.hits", "lookups the tier answered", null, tags, snap, t, TierStats::hits);
            tierCounter("strata.tier.misses", "lookups the tier could not answer", null, tags, snap, t,
                    TierStats::misses);
            tierCounter("strata.tier.evictions", "entries evicted from the tier", null, tags, snap, t,
                    TierStats::evictions);
            tierCounter("strata.tier.paged.in", "bytes paged into the tier", "bytes", tags, snap, t,
                    TierStats::bytesIn);
            tierCounter("strata.tier.paged.out", "bytes handed from the tier to a faster one", "bytes", tags, snap,
                    t, TierStats::bytesOut);
            tierCounter("strata.tier.io", "time spent paging into the tier", "seconds", tags, snap, t,
                    s -> s.ioNanos() / 1e9);
            tierCounter("strata.tier.stall", "time compute waited on the tier", "seconds", tags, snap, t,
                    s -> s.stallNanos() / 1e9);
        }
        counter("strata.prefetch.issued", "prefetches issued", null, snap, s -> s.prefetch().issued());
        counter("strata.prefetch.used", "prefetched experts compute used", null, snap, s -> s.prefetch().hits());
        counter("strata.prefetch.wasted", "prefetched experts evicted unused", null, snap,
                s -> s.prefetch().wasted());
        counter("strata.prefetch.skipped", "prefetches skipped (already resident or no room)", null, snap,
                s -> s.prefetch().skipped());
        counter("strata.compute.stall", "time compute waited for experts", "seconds", snap,
                s -> s.stallNanos() / 1e9);
        Timer pageIn = Timer.builder("strata.page.in").description("latency of one page-in (any tier)")
                .serviceLevelObjectives(Duration.ofNanos(100_000), Duration.ofMillis(1), Duration.ofMillis(5),
                        Duration.ofMillis(20), Duration.ofMillis(100), Duration.ofMillis(500), Duration.ofSeconds(2))
                .register(registry);
        DistributionSummary pageBytes = DistributionSummary.builder("strata.page.in.size").baseUnit("bytes")
                .description("bytes of one page-in").register(registry);
        observer = PageInObservers.add((from, to, bytes, nanos) -> {
            pageIn.record(nanos, TimeUnit.NANOSECONDS);
            pageBytes.record(bytes);
        });
        bindKv(engine);
        ServerCounters c = engine.counters();
        FunctionCounter.builder("strata.requests", c, x -> x.requests()).description("generation requests accepted")
                .register(registry);
        FunctionCounter.builder("strata.requests.completed", c, x -> x.completed()).register(registry);
        FunctionCounter.builder("strata.requests.cancelled", c, x -> x.cancelled())
                .description("requests whose client went away before the end").register(registry);
        FunctionCounter.builder("strata.requests.rejected", c, x -> x.rejected())
                .description("requests refused with 429, the queue being full").register(registry);
        FunctionCounter.builder("strata.requests.bad", c, x -> x.badRequests())
                .description("requests answered with a 4xx error").register(registry);
        FunctionCounter.builder("strata.prompt.tokens", c, x -> x.promptTokens()).register(registry);
        FunctionCounter.builder("strata.completion.tokens", c, x -> x.completionTokens()).register(registry);
        FunctionCounter.builder("strata.prompt.time", c, x -> x.promptNanos() / 1e9).baseUnit("seconds")
                .register(registry);
        FunctionCounter.builder("strata.decode.time", c, x -> x.decodeNanos() / 1e9).baseUnit("seconds")
                .register(registry);
        FunctionCounter.builder("strata.decode.stall", c, x -> x.stallNanos() / 1e9).baseUnit("seconds")
                .description("decode time spent waiting for experts").register(registry);
        Gauge.builder("strata.decode.tokens.per.second", c, x -> x.decodeNanos() == 0 ? 0
                : x.completionTokens() * 1e9 / x.decodeNanos()).description("decode tok/s since start")
                .strongReference(true).register(registry);
        Gauge.builder("strata.prompt.tokens.per.second", c, x -> x.promptNanos() == 0 ? 0
                : x.promptTokens() * 1e9 / x.promptNanos()).description("prompt tok/s since start")
                .strongReference(true).register(registry);
        Gauge.builder("strata.sequences.active", engine, ServeEngine::activeSequences).strongReference(true).register(registry);
        Gauge.builder("strata.sequences.queued", engine, ServeEngine::queued).strongReference(true).register(registry);
        Gauge.builder("strata.sequences.parallel", engine, ServeEngine::parallel)
                .description("sequences admitted at once (--parallel)").strongReference(true).register(registry);
        return this;
    }

    private void bindKv(ServeEngine engine) {
        if (engine.kvStats().isEmpty()) {
            return;
        }
        Supplier<KvStats> kv = cached(() -> engine.kvStats().orElseThrow());
        keep.add(kv);
        kvGauge("strata.kv.pages", null, "fast", kv, KvStats::fastPages);
        kvGauge("strata.kv.pages", null, "host", kv, KvStats::hostPages);
        kvGauge("strata.kv.pages", null, "disk", kv, KvStats::diskPages);
        kvGauge("strata.kv.held", "bytes", "fast", kv, KvStats::fastBytes);
        kvGauge("strata.kv.held", "bytes", "host", kv, KvStats::hostBytes);
        kvGauge("strata.kv.held", "bytes", "disk", kv, KvStats::diskBytes);
        FunctionCounter.builder("strata.kv.spilled", kv, s -> s.get().bytesSpilled()).baseUnit("bytes")
                .description("raw KV bytes spilled out of the fast tier").register(registry);
        FunctionCounter.builder("strata.kv.spill.stored", kv, s -> s.get().bytesStored()).baseUnit("bytes")
                .description("encoded bytes the spilled pages became").register(registry);
        FunctionCounter.builder("strata.kv.spill.disk", kv, s -> s.get().bytesToDisk()).baseUnit("bytes")
                .register(registry);
        FunctionCounter.builder("strata.kv.restored", kv, s -> s.get().bytesRestored()).baseUnit("bytes")
                .register(registry);
    }

    /** Bytes served and fetched, chunks rejected, peers connected, known and banned. */
    public StrataMetrics bindPeer(PeerNode node) {
        FunctionCounter.builder("strata.peer.served", node, PeerNode::bytesServed).baseUnit("bytes")
                .description("chunk bytes served to peers").register(registry);
        FunctionCounter.builder("strata.peer.chunks.served", node, PeerNode::chunksServed).register(registry);
        FunctionCounter.builder("strata.peer.fetched", node, PeerNode::bytesFetched).baseUnit("bytes")
                .description("chunk bytes received from peers").register(registry);
        FunctionCounter.builder("strata.peer.chunks.fetched", node, PeerNode::chunksFetched).register(registry);
        FunctionCounter.builder("strata.peer.chunks.rejected", node, PeerNode::chunksRejected)
                .description("chunk requests peers rejected").register(registry);
        FunctionCounter.builder("strata.peer.protocol.errors", node, PeerNode::protocolErrors).register(registry);
        Gauge.builder("strata.peer.connected", node, n -> n.connections().size()).strongReference(true).register(registry);
        Gauge.builder("strata.peer.known", node, n -> n.membership().all().size()).strongReference(true).register(registry);
        Gauge.builder("strata.peer.banned", node, n -> n.bans().size()).strongReference(true).register(registry);
        return this;
    }

    private void tierGauge(String name, String help, Tags tags, Supplier<TelemetrySnapshot> snap, Tier t,
                           ToDoubleFunction<TierStats> f) {
        Gauge.builder(name, snap, s -> f.applyAsDouble(s.get().tier(t))).description(help).tags(tags)
                .baseUnit("bytes").strongReference(true).register(registry);
    }

    private void tierCounter(String name, String help, String unit, Tags tags, Supplier<TelemetrySnapshot> snap,
                             Tier t, ToDoubleFunction<TierStats> f) {
        FunctionCounter.builder(name, snap, s -> f.applyAsDouble(s.get().tier(t))).description(help).tags(tags)
                .baseUnit(unit).register(registry);
    }

    private void counter(String name, String help, String unit, Supplier<TelemetrySnapshot> snap,
                         ToDoubleFunction<TelemetrySnapshot> f) {
        FunctionCounter.builder(name, snap, s -> f.applyAsDouble(s.get())).description(help).baseUnit(unit)
                .register(registry);
    }

    private void kvGauge(String name, String unit, String tier, Supplier<KvStats> kv, Function<KvStats, Long> f) {
        Gauge.builder(name, kv, s -> f.apply(s.get())).tags("tier", tier).baseUnit(unit).strongReference(true).register(registry);
    }

    /** {@code s} read once per scrape: one snapshot serves all the meters of a scrape, and they agree. */
    <T> Supplier<T> cached(Supplier<T> s) {
        return new Supplier<>() {
            private T value;
            private long at = -1;

            @Override
            public synchronized T get() {
                long now = scrapes.get();
                if (value == null || now != at) {
                    value = s.get();
                    at = now;
                }
                return value;
            }
        };
    }

    @Override
    public void close() throws Exception {
        if (observer != null) {
            observer.close();
        }
        registry.close();
    }
}
