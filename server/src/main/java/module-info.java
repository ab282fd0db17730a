/**
 * The HTTP side of Strata: the OpenAI-compatible API over one model ({@code ServeEngine}), Prometheus metrics
 * through Micrometer, and the status page served from the jar; {@code strata serve} and {@code strata peer --http}
 * start it.
 */
module io.strata.server {
    requires io.strata.core;
    requires io.strata.kernels;
    requires io.strata.loader;
    requires io.strata.p2p;
    requires io.strata.text;
    requires com.fasterxml.jackson.databind;
    requires io.netty.common;
    requires io.netty.buffer;
    requires io.netty.transport;
    requires io.netty.codec;
    requires io.netty.codec.http;
    requires io.netty.handler;
    requires micrometer.core;
    requires micrometer.registry.prometheus;

    exports io.strata.server;
}
