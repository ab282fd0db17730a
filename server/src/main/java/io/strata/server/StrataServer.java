package io.strata.server;

import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.strata.p2p.node.PeerNode;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * The HTTP face of a Strata process: {@code strata serve} (an engine: OpenAI API, metrics, status page) or
 * {@code strata peer --http} (a node: metrics, status page), or both. Closing it stops the HTTP side only; the
 * caller owns the engine and the node.
 */
public final class StrataServer implements AutoCloseable {
    private final HttpFront front;
    private final StrataMetrics metrics;
    private final StatusFeed feed;

    private StrataServer(HttpFront front, StrataMetrics metrics, StatusFeed feed) {
        this.front = front;
        this.metrics = metrics;
        this.feed = feed;
    }

    /** Starts on {@code host:port} (0: any free port); {@code engine} or {@code node} may be null, not both. */
    public static StrataServer start(String host, int port, ServeEngine engine, PeerNode node)
            throws InterruptedException {
        if (engine == null && node == null) {
            throw new IllegalArgumentException("a server needs an engine or a peer node");
        }
        StrataMetrics metrics = new StrataMetrics();
        if (engine != null) {
            metrics.bindEngine(engine);
        }
        if (node != null) {
            metrics.bindPeer(node);
        }
        StatusFeed feed = new StatusFeed(engine, node, 1000);
        HttpFront front = new HttpFront(engine == null ? () -> { } : () -> engine.counters().badRequests.incrementAndGet());
        if (engine != null) {
            new OpenAiApi(engine).register(front);
        } else {
            front.route(HttpMethod.GET, "/health", (ctx, req) -> HttpFront.send(ctx, req, HttpResponseStatus.OK,
                    "application/json", "{\"status\":\"ok\"}".getBytes(StandardCharsets.UTF_8)));
        }
        front.route(HttpMethod.GET, "/metrics", (ctx, req) -> HttpFront.send(ctx, req, HttpResponseStatus.OK,
                        "text/plain; version=0.0.4; charset=utf-8", metrics.scrape().getBytes(StandardCharsets.UTF_8)))
                .route(HttpMethod.GET, "/status.json", (ctx, req) ->
                        HttpFront.sendJson(ctx, req, HttpResponseStatus.OK, feed.json()))
                .resource("/", "status/index.html", "text/html; charset=utf-8")
                .resource("/status.js", "status/status.js", "text/javascript; charset=utf-8");
        try {
            front.start(host, port);
        } catch (RuntimeException | InterruptedException e) {
            front.close();
            feed.close();
            throw e;
        }
        return new StrataServer(front, metrics, feed);
    }

    public InetSocketAddress address() {
        return front.address();
    }

    public StrataMetrics metrics() {
        return metrics;
    }

    @Override
    public void close() throws Exception {
        front.close();
        feed.close();
        metrics.close();
    }
}
