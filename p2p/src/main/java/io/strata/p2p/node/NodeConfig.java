package io.strata.p2p.node;

import io.strata.p2p.identity.NodeIdentity;
import io.strata.p2p.wire.Wire;
import java.time.Duration;

/** Settings of a {@link PeerNode}; fluent setters, defaults sized for a LAN mesh. */
public final class NodeConfig {
    NodeIdentity identity = NodeIdentity.generate();
    String bindHost = "127.0.0.1";
    int port;
    /** Host other nodes should dial (gossiped); defaults to the bind host. */
    String advertiseHost;
    int ioThreads = 2;
    int maxFrame = Wire.DEFAULT_MAX_FRAME;
    Duration handshakeTimeout = Duration.ofSeconds(5);
    Duration requestTimeout = Duration.ofSeconds(15);
    Duration keepAlive = Duration.ofSeconds(5);
    Duration idleTimeout = Duration.ofSeconds(20);
    Duration gossipInterval = Duration.ofSeconds(2);
    Duration connectTimeout = Duration.ofSeconds(3);
    int maxServeQueue = 64;
    int maxServeInFlight = 16;
    long maxUploadBytesPerSecond;
    int maxConnections = 64;
    int targetConnections = 8;
    ChunkResponder responder = new FileRegionResponder();

    public NodeConfig identity(NodeIdentity v) {
        identity = v;
        return this;
    }

    public NodeConfig bind(String host, int port) {
        this.bindHost = host;
        this.port = port;
        return this;
    }

    public NodeConfig advertiseHost(String v) {
        advertiseHost = v;
        return this;
    }

    public NodeConfig ioThreads(int v) {
        ioThreads = v;
        return this;
    }

    public NodeConfig maxFrame(int v) {
        maxFrame = v;
        return this;
    }

    public NodeConfig handshakeTimeout(Duration v) {
        handshakeTimeout = v;
        return this;
    }

    public NodeConfig requestTimeout(Duration v) {
        requestTimeout = v;
        return this;
    }

    public NodeConfig keepAlive(Duration keepAliveEvery, Duration closeWhenSilentFor) {
        keepAlive = keepAliveEvery;
        idleTimeout = closeWhenSilentFor;
        return this;
    }

    public NodeConfig gossipInterval(Duration v) {
        gossipInterval = v;
        return this;
    }

    /** Requests queued per connection before REJECT BUSY, and chunk writes in flight per connection. */
    public NodeConfig serveLimits(int queue, int inFlight) {
        maxServeQueue = queue;
        maxServeInFlight = inFlight;
        return this;
    }

    /** Upload cap across all connections in bytes/s; 0 for none. */
    public NodeConfig maxUpload(long bytesPerSecond) {
        maxUploadBytesPerSecond = bytesPerSecond;
        return this;
    }

    public NodeConfig connections(int max, int target) {
        maxConnections = max;
        targetConnections = target;
        return this;
    }

    /** How requests are answered (tests plug in misbehaving peers here). */
    public NodeConfig responder(ChunkResponder v) {
        responder = v;
        return this;
    }

    public NodeIdentity identity() {
        return identity;
    }

    public Duration requestTimeout() {
        return requestTimeout;
    }
}
