package io.strata.p2p.node;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.traffic.GlobalTrafficShapingHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.ScheduledFuture;
import io.strata.p2p.identity.NodeId;
import io.strata.p2p.identity.NodeIdentity;
import io.strata.p2p.mesh.BanList;
import io.strata.p2p.mesh.Membership;
import io.strata.p2p.store.ModelRegistry;
import io.strata.p2p.wire.FrameDecoder;
import io.strata.p2p.wire.Message;
import io.strata.p2p.wire.MessageEncoder;
import io.strata.p2p.wire.ModelHash;
import io.strata.p2p.wire.PeerAddress;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A peer of the mesh: listens, dials, authenticates, serves the chunks of the models in its registry, keeps one
 * connection per peer node, gossips addresses and forgets silent peers. Fetching is done on top of it by
 * {@code io.strata.p2p.fetch}. It is built to face hostile peers: connection slots are granted by one
 * {@link Admission} policy, every dial it makes on its own passes one {@link DialPolicy}, bans cover the offender's
 * address as well as its key ({@link BanList}), and each {@link PeerConnection} bounds what it buffers and times out
 * in every state.
 */
public final class PeerNode implements AutoCloseable {
    /** Rounds after which an address no peer gossips any more is forgotten (if the node never met it). */
    private static final int GOSSIP_TTL_ROUNDS = 5;

    private final NodeConfig config;
    private final EventLoopGroup group;
    private final ModelRegistry models = new ModelRegistry();
    private final Membership membership = new Membership(256, 3);
    private final BanList bans;
    private final Admission admission;
    private final DialPolicy dialPolicy;
    private final AtomicLong refused = new AtomicLong();
    private final AtomicLong evicted = new AtomicLong();
    private final AtomicLong dials = new AtomicLong();
    private final AtomicLong rounds = new AtomicLong();
    private final Map<NodeId, PeerConnection> connections = new ConcurrentHashMap<>();
    private final Set<PeerAddress> dialing = ConcurrentHashMap.newKeySet();
    private final List<NodeListener> listeners = new CopyOnWriteArrayList<>();
    private final AtomicLong bytesServed = new AtomicLong();
    private final AtomicLong chunksServed = new AtomicLong();
    private final AtomicLong bytesFetched = new AtomicLong();
    private final AtomicLong chunksFetched = new AtomicLong();
    private final AtomicLong chunksRejected = new AtomicLong();
    private final AtomicLong protocolErrors = new AtomicLong();
    private final GlobalTrafficShapingHandler shaper;
    private Channel server;
    private ScheduledFuture<?> maintenance;
    private volatile int listenPort;
    private volatile boolean closed;

    /** What the node's defences did, for diagnostics and tests. */
    public record Counters(long refused, long evicted, long dials, long maintenanceRounds, long protocolErrors) {
    }

    private PeerNode(NodeConfig config) {
        this.config = config;
        this.bans = new BanList(config.keyBan, config.addressBan, config.maxAddressBan);
        this.admission = new Admission(config.maxConnections, config.maxPerAddress, config.maxHandshakes,
                config.admissionGrace.toNanos());
        this.dialPolicy = new DialPolicy(config.dialRanges, config.minReporters, config.dialsPerRound,
                config.gossipInterval.toNanos(), bans);
        this.group = new MultiThreadIoEventLoopGroup(config.ioThreads,
                new DefaultThreadFactory("strata-p2p-" + config.identity.id(), true), NioIoHandler.newFactory());
        this.shaper = config.maxUploadBytesPerSecond > 0
                ? new GlobalTrafficShapingHandler(group.next(), config.maxUploadBytesPerSecond, 0) : null;
    }

    /** Starts a node listening on the configured address (port 0: an ephemeral port). */
    public static PeerNode start(NodeConfig config) throws IOException {
        PeerNode n = new PeerNode(config);
        try {
            n.listen();
        } catch (IOException | RuntimeException e) {
            n.close();
            throw e;
        }
        return n;
    }

    private void listen() throws IOException {
        ServerBootstrap b = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, config.writeBufferWaterMark())
                .childHandler(initializer(() -> new PeerConnection(this, null)));
        try {
            server = b.bind(config.bindHost, config.port).sync().channel();
        } catch (Exception e) {
            throw new IOException("cannot listen on " + config.bindHost + ":" + config.port + ": " + e.getMessage(), e);
        }
        listenPort = ((InetSocketAddress) server.localAddress()).getPort();
        membership.setSelf(listenAddress());
        long every = config.gossipInterval.toMillis();
        maintenance = group.next().scheduleWithFixedDelay(this::maintain, every, every, TimeUnit.MILLISECONDS);
    }

    private ChannelInitializer<SocketChannel> initializer(java.util.function.Supplier<PeerConnection> handler) {
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(SocketChannel ch) {
                ChannelPipeline p = ch.pipeline();
                if (shaper != null) {
                    p.addLast("shaper", shaper);
                }
                p.addLast("frames", new FrameDecoder(config.maxFrame));
                p.addLast("encoder", MessageEncoder.INSTANCE);
                p.addLast("peer", handler.get());
            }
        };
    }

    // ---- public API --------------------------------------------------------------------------------------------

    public NodeId id() {
        return config.identity.id();
    }

    NodeIdentity identity() {
        return config.identity;
    }

    NodeConfig config() {
        return config;
    }

    public int listenPort() {
        return listenPort;
    }

    public PeerAddress listenAddress() {
        String host = config.advertiseHost != null ? config.advertiseHost
                : "0.0.0.0".equals(config.bindHost) ? "127.0.0.1" : config.bindHost;
        return new PeerAddress(host, listenPort);
    }

    public ModelRegistry models() {
        return models;
    }

    public Membership membership() {
        return membership;
    }

    public BanList bans() {
        return bans;
    }

    public Collection<PeerConnection> connections() {
        return List.copyOf(connections.values());
    }

    public void addListener(NodeListener l) {
        listeners.add(l);
    }

    public void removeListener(NodeListener l) {
        listeners.remove(l);
    }

    public long bytesServed() {
        return bytesServed.get();
    }

    public long chunksServed() {
        return chunksServed.get();
    }

    /** Piece bytes received for this node's own requests (before verification, which the fetcher does). */
    public long bytesFetched() {
        return bytesFetched.get();
    }

    public long chunksFetched() {
        return chunksFetched.get();
    }

    /** Chunk requests of this node that a peer rejected (it lacked the chunk, or refused to serve it). */
    public long chunksRejected() {
        return chunksRejected.get();
    }

    /** Connections closed for malformed or oversized frames, unknown types or failed handshakes. */
    public long protocolErrors() {
        return protocolErrors.get();
    }

    public Counters counters() {
        return new Counters(refused.get(), evicted.get(), dials.get(), rounds.get(), protocolErrors.get());
    }

    Admission admission() {
        return admission;
    }

    /**
     * Dials {@code a} at the user's request (bootstrap peers, explicit dials: the dial policy does not apply, bans
     * do); completes with the authenticated connection to that node (an existing one if any).
     */
    public CompletableFuture<PeerConnection> connect(PeerAddress a) {
        if (!closed && !bans.isBanned(a)) {
            membership.learnFromUser(a);
        }
        return dial(a);
    }

    private CompletableFuture<PeerConnection> dial(PeerAddress a) {
        CompletableFuture<PeerConnection> result = new CompletableFuture<>();
        if (closed) {
            result.completeExceptionally(new IOException("node is closed"));
            return result;
        }
        if (bans.isBanned(a)) {
            result.completeExceptionally(new IOException(a + " is banned"));
            return result;
        }
        dials.incrementAndGet();
        PeerConnection pc = new PeerConnection(this, a);
        ChannelInitializer<SocketChannel> init = initializer(() -> pc);
        Bootstrap b = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, config.writeBufferWaterMark())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) config.connectTimeout.toMillis())
                .handler(init);
        (config.dialFrom == null ? b.connect(a.host(), a.port())
                : b.connect(new InetSocketAddress(a.host(), a.port()), new InetSocketAddress(config.dialFrom, 0)))
                .addListener((io.netty.channel.ChannelFutureListener) cf -> {
            if (!cf.isSuccess()) {
                IOException why = new IOException("cannot connect to " + a + ": " + cf.cause().getMessage(),
                        cf.cause());
                pc.ready().completeExceptionally(why); // marks the failure once, below
            }
        });
        pc.ready().whenComplete((c, e) -> {
            if (e != null) {
                membership.markFailed(a);
                result.completeExceptionally(e);
            } else {
                result.complete(c);
            }
        });
        return result;
    }

    /**
     * Bans the peer behind {@code c} (bad data): refuses its id and its network address for a while (see
     * {@link BanList}), closes every connection from that address and forgets every address on it, so nothing there
     * is dialled again while the ban lasts.
     */
    public void ban(PeerConnection c, String reason) {
        InetAddress ip = c.remoteIp();
        bans.ban(c.peerId(), ip, reason);
        if (c.peerAddress() != null) {
            membership.forget(c.peerAddress());
        }
        if (ip != null) {
            membership.forgetHost(ip);
            for (PeerConnection other : connections.values()) {
                if (ip.equals(other.remoteIp())) {
                    other.close();
                }
            }
        }
        c.close();
    }

    /** Announces a newly verified chunk to peers interested in the model. */
    public void announce(ModelHash model, int shard, int chunk) {
        for (PeerConnection c : connections.values()) {
            c.announce(model, shard, chunk);
        }
    }

    // ---- callbacks from connections ----------------------------------------------------------------------------

    /**
     * A connection finished its handshake: keep one connection per peer node, deterministically, and give a new
     * peer a slot only as {@link Admission} decides (possibly evicting an idle connection for it).
     */
    CompletableFuture<PeerConnection> registered(PeerConnection c) {
        if (closed || bans.isBanned(c.peerId()) || bans.isBanned(c.remoteIp())) {
            c.close();
            refused.incrementAndGet();
            return CompletableFuture.failedFuture(new IOException(c + ": connection refused (banned)"));
        }
        PeerConnection winner;
        PeerConnection loser = null;
        PeerConnection victim = null;
        synchronized (connections) {
            PeerConnection existing = connections.get(c.peerId());
            if (existing == null || !existing.isOpen()) {
                List<PeerConnection> others = new ArrayList<>();
                for (PeerConnection o : connections.values()) {
                    if (o.isOpen() && !o.peerId().equals(c.peerId())) {
                        others.add(o);
                    }
                }
                Admission.Decision d = c.isOutbound() ? Admission.Decision.ADMIT : admission.admit(c, others);
                if (!d.admit()) {
                    c.close();
                    refused.incrementAndGet();
                    return CompletableFuture.failedFuture(new IOException(c + ": connection refused (" + d.why()
                            + ")"));
                }
                victim = d.victim();
                if (victim != null && !connections.remove(victim.peerId(), victim)) {
                    victim = null;
                }
                connections.put(c.peerId(), c);
                winner = c;
            } else if (prefer(c, existing)) {
                connections.put(c.peerId(), c);
                winner = c;
                loser = existing;
            } else {
                winner = existing;
                loser = c;
            }
        }
        if (c.peerAddress() != null) {
            membership.markAlive(c.peerAddress());
        }
        if (victim != null) {
            evicted.incrementAndGet();
            victim.close();
            for (NodeListener l : listeners) {
                l.disconnected(victim);
            }
        }
        if (loser != null) {
            loser.close();
        }
        if (winner == c) {
            for (NodeListener l : listeners) {
                l.connected(c);
            }
        }
        return CompletableFuture.completedFuture(winner);
    }

    /** Of two connections between the same two nodes, both ends keep the one dialled by the smaller node id. */
    private boolean prefer(PeerConnection a, PeerConnection b) {
        return dialerIsSmaller(a) && !dialerIsSmaller(b);
    }

    private boolean dialerIsSmaller(PeerConnection c) {
        NodeId dialer = c.isOutbound() ? id() : c.peerId();
        NodeId other = c.isOutbound() ? c.peerId() : id();
        return java.util.Arrays.compareUnsigned(dialer.bytes(), other.bytes()) < 0;
    }

    void unregistered(PeerConnection c) {
        boolean removed = connections.remove(c.peerId(), c);
        if (removed) {
            for (NodeListener l : listeners) {
                l.disconnected(c);
            }
        }
    }

    void haveChunk(PeerConnection c, Message.HaveChunk hc) {
        for (NodeListener l : listeners) {
            l.haveChunk(c, hc.model(), hc.shard(), hc.chunk());
        }
    }

    void silent(PeerConnection c) {
        if (c.peerAddress() != null) {
            membership.markFailed(c.peerAddress());
        }
    }

    /** Malformed input: the connection is closed; an authenticated peer is also banned (it signed its garbage). */
    void protocolError(PeerConnection c, Throwable cause, boolean authenticated) {
        protocolErrors.incrementAndGet();
        if (authenticated) {
            ban(c, "protocol violation: " + cause.getMessage());
        }
    }

    /** A connection was closed at once: banned address or no handshake slot free. */
    void refused() {
        refused.incrementAndGet();
    }

    /** Addresses a peer gossiped: remembered with the peer's network address as their reporter. */
    void learned(PeerConnection from, List<PeerAddress> peers) {
        membership.learnFromPeer(peers, from.remoteIp());
    }

    void fetched(int bytes) {
        bytesFetched.addAndGet(bytes);
        chunksFetched.incrementAndGet();
    }

    void rejected() {
        chunksRejected.incrementAndGet();
    }

    void served(int bytes) {
        bytesServed.addAndGet(bytes);
        chunksServed.incrementAndGet();
    }

    /** What this node tells a peer that asks for addresses: only ones it would dial itself. */
    List<PeerAddress> gossipFor(PeerConnection asker) {
        List<PeerAddress> out = new ArrayList<>();
        for (Membership.Known k : membership.shuffled()) {
            if (out.size() >= io.strata.p2p.wire.Wire.MAX_PEERS_PER_FRAME) {
                break;
            }
            if (!k.address().equals(asker.peerAddress()) && dialPolicy.acceptable(k)) {
                out.add(k.address());
            }
        }
        return out;
    }

    /**
     * Periodic: ask peers for addresses, dial known ones the dial policy allows until the target connection count
     * is reached (at most the policy's budget per round).
     */
    private void maintain() {
        if (closed) {
            return;
        }
        rounds.incrementAndGet();
        bans.purge();
        membership.expireGossip(config.gossipInterval.toNanos() * GOSSIP_TTL_ROUNDS);
        dialPolicy.newRound();
        for (PeerConnection c : connections.values()) {
            c.askPeers();
        }
        Set<PeerAddress> connected = ConcurrentHashMap.newKeySet();
        for (PeerConnection c : connections.values()) {
            if (c.peerAddress() != null) {
                connected.add(c.peerAddress());
            }
        }
        int want = config.targetConnections - connections.size();
        for (Membership.Known k : membership.shuffled()) {
            if (want <= 0) {
                break;
            }
            PeerAddress a = k.address();
            if (connected.contains(a) || dialing.contains(a) || !dialPolicy.mayDialNow(k) || !dialing.add(a)) {
                continue;
            }
            want--;
            membership.markAttempt(a);
            dial(a).whenComplete((c, e) -> dialing.remove(a));
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (maintenance != null) {
            maintenance.cancel(false);
        }
        if (server != null) {
            server.close().syncUninterruptibly();
        }
        for (PeerConnection c : connections.values()) {
            c.close();
        }
        if (shaper != null) {
            shaper.release();
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
