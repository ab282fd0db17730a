package io.strata.p2p.node;

import io.netty.channel.WriteBufferWaterMark;
import io.strata.p2p.identity.NodeIdentity;
import io.strata.p2p.mesh.AddressRange;
import io.strata.p2p.wire.Wire;
import java.time.Duration;
import java.util.List;

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
    int maxPerAddress = 8;
    int maxHandshakes = 32;
    Duration admissionGrace = Duration.ofSeconds(10);
    List<AddressRange> dialRanges = AddressRange.PRIVATE;
    int minReporters = 2;
    int dialsPerRound = 2;
    Duration keyBan = Duration.ofHours(1);
    Duration addressBan = Duration.ofMinutes(1);
    Duration maxAddressBan = Duration.ofHours(1);
    /** Local address outgoing connections are made from; null: the system's choice. */
    String dialFrom;
    int writeBufferLow = 256 << 10;
    int writeBufferHigh = 1 << 20;
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

    /** Requests queued per connection before the node stops reading from it, and chunk writes in flight per connection. */
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

    /**
     * Connection admission: at most {@code perAddress} connections (and handshakes) per network address, at most
     * {@code handshakes} handshakes at once; a connection is protected from eviction for {@code grace} after it was
     * admitted and after each chunk it moved.
     */
    public NodeConfig admission(int perAddress, int handshakes, Duration grace) {
        maxPerAddress = perAddress;
        maxHandshakes = handshakes;
        admissionGrace = grace;
        return this;
    }

    /**
     * The dial policy for addresses learned from the mesh: only inside {@code ranges}, only when reported by peers on
     * {@code minReporters} distinct hosts (or seen as a live peer), at most {@code perRound} dials per gossip round.
     */
    public NodeConfig dialing(List<AddressRange> ranges, int minReporters, int perRound) {
        dialRanges = List.copyOf(ranges);
        this.minReporters = minReporters;
        dialsPerRound = perRound;
        return this;
    }

    /** The ranges gossiped addresses may be dialled in (default {@link AddressRange#PRIVATE}). */
    public NodeConfig dialRanges(List<AddressRange> ranges) {
        dialRanges = List.copyOf(ranges);
        return this;
    }

    /** Ban lengths: a key; an address on its first offence (doubling per repeat offence up to {@code maxAddress}). */
    public NodeConfig bans(Duration key, Duration address, Duration maxAddress) {
        keyBan = key;
        addressBan = address;
        maxAddressBan = maxAddress;
        return this;
    }

    /** Makes outgoing connections from this local address (e.g. one interface of a multi-homed host). */
    public NodeConfig dialFrom(String host) {
        dialFrom = host;
        return this;
    }

    /** Bytes queued for a peer above which the connection counts as backed up ({@code high}), and below which not. */
    public NodeConfig writeBuffer(int low, int high) {
        writeBufferLow = low;
        writeBufferHigh = high;
        return this;
    }

    WriteBufferWaterMark writeBufferWaterMark() {
        return new WriteBufferWaterMark(writeBufferLow, writeBufferHigh);
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
