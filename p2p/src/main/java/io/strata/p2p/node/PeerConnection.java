package io.strata.p2p.node;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.strata.p2p.identity.Ed25519;
import io.strata.p2p.identity.Handshake;
import io.strata.p2p.identity.NodeId;
import io.strata.p2p.store.ChunkFile;
import io.strata.p2p.store.LocalModel;
import io.strata.p2p.store.LocalShard;
import io.strata.p2p.wire.FrameDecoder;
import io.strata.p2p.wire.Message;
import io.strata.p2p.wire.ModelHash;
import io.strata.p2p.wire.PeerAddress;
import io.strata.p2p.wire.Wire;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One authenticated connection to a peer, both directions: the handshake (HELLO with a fresh nonce, then AUTH: an
 * Ed25519 signature over the other side's nonce), the client calls (manifest, have-map, chunk requests with
 * timeouts) and serving the peer's requests. Any protocol violation closes the channel. All state is touched on the
 * channel's event loop only.
 *
 * <p>Nothing a peer sends can grow the node's memory without bound. Requests that need an answer wait in one
 * queue, answered only while the channel is writable (Netty's write-buffer water marks) with a bounded number of
 * chunk writes in flight; when the queue is full the node stops reading from the socket until it drains, so a peer
 * that sends without reading is held back by TCP. Optional chatter (keep-alive, gossip, have-announcements) is
 * skipped while writes are backed up. Every state has a timeout: the handshake its own, afterwards a complete frame
 * must arrive within the idle timeout and queued output must make progress within it.
 */
public final class PeerConnection extends ChannelInboundHandlerAdapter {
    private static final SecureRandom RANDOM = new SecureRandom();
    /** Models one peer may follow HAVE_CHUNK updates of (GET_HAVE subscribes; bounded against floods). */
    private static final int MAX_SUBSCRIPTIONS = 64;

    private final PeerNode node;
    private final boolean outbound;
    private final byte[] nonce = new byte[Wire.NONCE_LEN];
    private final CompletableFuture<PeerConnection> ready = new CompletableFuture<>();
    private final AtomicInteger nextId = new AtomicInteger(1);
    private final Map<Integer, CompletableFuture<Message.Piece>> pieces = new HashMap<>();
    private final Map<ModelHash, List<CompletableFuture<Message.ManifestData>>> manifestWaiters = new HashMap<>();
    private final Map<ModelHash, List<CompletableFuture<Message.HaveMap>>> haveWaiters = new HashMap<>();
    private final Set<ModelHash> subscriptions = ConcurrentHashMap.newKeySet();
    /** Requests waiting for an answer (REQUEST, GET_MANIFEST, GET_HAVE, GET_PEERS, PING), in arrival order. */
    private final ArrayDeque<Message> pending = new ArrayDeque<>();
    private final PeerAddress dialled;
    private int writesInFlight;

    private Channel channel;
    private ScheduledFuture<?> handshakeTimer;
    private ScheduledFuture<?> ticker;
    private volatile InetAddress remoteIp;
    private volatile NodeId peerId;
    private volatile PeerAddress peerAddress;
    private volatile boolean authenticated;
    private boolean helloReceived;
    private boolean handshakeSlot;
    private volatile long admittedNanos;
    private volatile long usefulNanos;
    private long lastFrameInNanos;
    private long lastWriteNanos;
    private Object outCurrent;
    private long outProgress;
    private long outProgressNanos;

    /** {@code dialled}: the address an outbound connection was made to (null for inbound ones). */
    PeerConnection(PeerNode node, PeerAddress dialled) {
        this.node = node;
        this.outbound = dialled != null;
        this.dialled = dialled;
        RANDOM.nextBytes(nonce);
    }

    /** Completes when the handshake succeeded (with the connection to use), exceptionally when it failed. */
    public CompletableFuture<PeerConnection> ready() {
        return ready;
    }

    public NodeId peerId() {
        return peerId;
    }

    /** The peer's listen address (remote host, port from its HELLO); null when it does not listen. */
    public PeerAddress peerAddress() {
        return peerAddress;
    }

    public boolean isOutbound() {
        return outbound;
    }

    /** The peer's network address (the socket's remote IP); null before the channel is active. */
    public InetAddress remoteIp() {
        return remoteIp;
    }

    long admittedNanos() {
        return admittedNanos;
    }

    /** When a chunk last moved over this connection, either way (long before admission when never). */
    long usefulNanos() {
        return usefulNanos;
    }

    private void markUseful() {
        usefulNanos = System.nanoTime();
    }

    public boolean isOpen() {
        return channel != null && channel.isActive();
    }

    public void close() {
        if (channel != null) {
            channel.close();
        }
    }

    @Override
    public String toString() {
        return "peer " + peerId + (peerAddress == null ? "" : " at " + peerAddress);
    }

    // ---- client side -------------------------------------------------------------------------------------------

    /** The manifest from this peer, or null when it does not have it. */
    public CompletableFuture<Message.ManifestData> getManifest(ModelHash model) {
        CompletableFuture<Message.ManifestData> f = new CompletableFuture<>();
        onLoop(() -> {
            manifestWaiters.computeIfAbsent(model, k -> new ArrayList<>()).add(f);
            send(new Message.GetManifest(model));
            timeout(f, "manifest " + model);
        }, f);
        return f;
    }

    /** The peer's have-map for {@code model} (null when it has none); subscribes to its HAVE_CHUNK updates. */
    public CompletableFuture<Message.HaveMap> getHave(ModelHash model) {
        CompletableFuture<Message.HaveMap> f = new CompletableFuture<>();
        onLoop(() -> {
            haveWaiters.computeIfAbsent(model, k -> new ArrayList<>()).add(f);
            send(new Message.GetHave(model));
            timeout(f, "have-map " + model);
        }, f);
        return f;
    }

    /**
     * Requests one chunk. The future yields the PIECE (the caller releases it), or fails with a timeout, a
     * {@link RequestRejectedException} or {@link ClosedChannelException}. Cancelling the future sends CANCEL.
     */
    public CompletableFuture<Message.Piece> request(ModelHash model, int shard, int chunk) {
        CompletableFuture<Message.Piece> f = new CompletableFuture<>();
        int id = nextId.getAndIncrement();
        onLoop(() -> {
            pieces.put(id, f);
            send(new Message.Request(id, model, shard, chunk));
            ScheduledFuture<?> t = channel.eventLoop().schedule(() -> {
                if (pieces.remove(id, f)) {
                    f.completeExceptionally(new TimeoutException(this + ": no answer for shard " + shard + " chunk "
                            + chunk + " within " + node.config().requestTimeout.toMillis() + " ms"));
                    send(new Message.Cancel(id));
                }
            }, node.config().requestTimeout.toMillis(), TimeUnit.MILLISECONDS);
            f.whenComplete((p, e) -> {
                t.cancel(false);
                if (f.isCancelled()) {
                    onLoop(() -> {
                        if (pieces.remove(id, f)) {
                            send(new Message.Cancel(id));
                        }
                    }, null);
                }
            });
        }, f);
        return f;
    }

    /** Tells the peer we now have a chunk, when it subscribed to the model (skipped while writes are backed up). */
    public void announce(ModelHash model, int shard, int chunk) {
        if (authenticated && subscriptions.contains(model)) {
            onLoop(() -> sendOptional(new Message.HaveChunk(model, shard, chunk)), null);
        }
    }

    public void askPeers() {
        if (authenticated) {
            onLoop(() -> sendOptional(new Message.GetPeers()), null);
        }
    }

    private void onLoop(Runnable r, CompletableFuture<?> failOnClosed) {
        if (channel == null || !channel.isActive()) {
            if (failOnClosed != null) {
                failOnClosed.completeExceptionally(new ClosedChannelException());
            }
            return;
        }
        channel.eventLoop().execute(() -> {
            if (!channel.isActive()) {
                if (failOnClosed != null) {
                    failOnClosed.completeExceptionally(new ClosedChannelException());
                }
                return;
            }
            r.run();
        });
    }

    private void timeout(CompletableFuture<?> f, String what) {
        ScheduledFuture<?> t = channel.eventLoop().schedule(() -> {
            f.completeExceptionally(new TimeoutException(this + ": no answer for " + what));
        }, node.config().requestTimeout.toMillis(), TimeUnit.MILLISECONDS);
        f.whenComplete((v, e) -> t.cancel(false));
    }

    private void send(Message m) {
        lastWriteNanos = System.nanoTime();
        channel.writeAndFlush(m).addListener(ChannelFutureListener.FIRE_EXCEPTION_ON_FAILURE);
    }

    /** Sends chatter the peer can do without, unless writes to it are backed up. */
    private void sendOptional(Message m) {
        if (channel.isWritable()) {
            send(m);
        }
    }

    // ---- channel events ----------------------------------------------------------------------------------------

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        remoteIp = ((InetSocketAddress) ctx.channel().remoteAddress()).getAddress();
        long now = System.nanoTime();
        lastFrameInNanos = now;
        outProgressNanos = now;
        if (node.bans().isBanned(remoteIp)
                || !outbound && !(handshakeSlot = node.admission().beginHandshake(remoteIp))) {
            node.refused();
            ctx.close();
            return;
        }
        send(new Message.Hello(Wire.PROTOCOL_VERSION, node.id().bytes(), nonce, node.listenPort()));
        handshakeTimer = ctx.executor().schedule(() -> {
            if (!authenticated) {
                ctx.close();
            }
        }, node.config().handshakeTimeout.toMillis(), TimeUnit.MILLISECONDS);
        long every = Math.max(10, Math.min(node.config().keepAlive.toMillis(),
                node.config().idleTimeout.toMillis()) / 4);
        ticker = ctx.executor().scheduleAtFixedRate(this::tick, every, every, TimeUnit.MILLISECONDS);
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof Message m)) {
            ReferenceCountUtil.release(msg);
            ctx.close();
            return;
        }
        lastFrameInNanos = System.nanoTime();
        boolean handedOn = false;
        try {
            if (!authenticated) {
                handshake(ctx, m);
            } else {
                handedOn = m instanceof Message.Piece;
                dispatch(ctx, m);
            }
        } finally {
            if (!handedOn) {
                ReferenceCountUtil.release(m); // a PIECE is released by whoever it was handed to
            }
        }
    }

    private void handshake(ChannelHandlerContext ctx, Message m) {
        switch (m) {
            case Message.Hello h when !helloReceived -> {
                helloReceived = true;
                NodeId id = new NodeId(h.nodeId());
                if (h.version() != Wire.PROTOCOL_VERSION || id.equals(node.id()) || node.bans().isBanned(id)) {
                    ctx.close();
                    return;
                }
                peerId = id;
                if (dialled != null) {
                    peerAddress = dialled; // it listens where we reached it, whatever its HELLO says
                } else if (h.listenPort() > 0) {
                    peerAddress = new PeerAddress(remoteIp.getHostAddress(), h.listenPort());
                }
                send(new Message.Auth(node.identity().sign(Handshake.challenge(h.nonce(), node.id(), id))));
            }
            case Message.Auth a when helloReceived -> {
                if (!Ed25519.verify(peerId.bytes(), Handshake.challenge(nonce, peerId, node.id()), a.signature())) {
                    node.protocolError(this, new ProtocolViolation("bad handshake signature"), false);
                    ctx.close();
                    return;
                }
                authenticated = true;
                handshakeTimer.cancel(false);
                releaseHandshakeSlot();
                ctx.pipeline().get(FrameDecoder.class).authenticated();
                admittedNanos = System.nanoTime();
                usefulNanos = admittedNanos - (1L << 60);
                node.registered(this).whenComplete((winner, e) -> {
                    if (e != null) {
                        ready.completeExceptionally(e);
                    } else {
                        ready.complete(winner);
                    }
                });
            }
            default -> {
                node.protocolError(this, new ProtocolViolation(m.type() + " before the handshake"), false);
                ctx.close();
            }
        }
    }

    private void dispatch(ChannelHandlerContext ctx, Message m) {
        switch (m) {
            case Message.Piece p -> {
                CompletableFuture<Message.Piece> f = pieces.remove(p.id());
                int bytes = p.content().readableBytes();
                if (f == null || !f.complete(p)) {
                    p.release(); // cancelled or timed out meanwhile
                } else {
                    node.fetched(bytes);
                    markUseful();
                }
            }
            case Message.Request r -> enqueue(r);
            case Message.GetManifest g -> enqueue(g);
            case Message.GetHave g -> enqueue(g);
            case Message.GetPeers g -> enqueue(g);
            case Message.Ping p -> enqueue(p);
            case Message.Cancel c -> pending.removeIf(r -> r instanceof Message.Request q && q.id() == c.id());
            case Message.Reject r -> {
                node.rejected();
                CompletableFuture<Message.Piece> f = pieces.remove(r.id());
                if (f != null) {
                    f.completeExceptionally(new RequestRejectedException(this + " rejected request " + r.id()
                            + " (reason " + r.reason() + ")", r.reason()));
                }
            }
            case Message.ManifestData md -> complete(manifestWaiters, md.model(), md);
            case Message.NotFound nf -> {
                complete(manifestWaiters, nf.model(), null);
                complete(haveWaiters, nf.model(), null);
            }
            case Message.HaveMap hm -> complete(haveWaiters, hm.model(), hm);
            case Message.HaveChunk hc -> node.haveChunk(this, hc);
            case Message.Pong ignored -> {
            }
            case Message.Peers ps -> node.learned(this, ps.peers());
            case Message.Hello ignored -> exceptionCaught(ctx, new ProtocolViolation("second HELLO"));
            case Message.Auth ignored -> exceptionCaught(ctx, new ProtocolViolation("second AUTH"));
            case Message.PieceHeader ignored -> exceptionCaught(ctx, new ProtocolViolation("unexpected piece header"));
        }
    }

    private static <T> void complete(Map<ModelHash, List<CompletableFuture<T>>> waiters, ModelHash h, T value) {
        List<CompletableFuture<T>> list = waiters.remove(h);
        if (list != null) {
            for (CompletableFuture<T> f : list) {
                f.complete(value);
            }
        }
    }

    /** Queues a request; past the queue limit the node stops reading from this peer until the queue drains. */
    private void enqueue(Message m) {
        pending.add(m);
        drain();
    }

    /** Answers queued requests while the channel is writable (chunks: while fewer than the limit are in flight). */
    private void drain() {
        while (!pending.isEmpty() && channel.isWritable()) {
            if (pending.peek() instanceof Message.Request && writesInFlight >= node.config().maxServeInFlight) {
                break;
            }
            answer(pending.poll());
        }
        int limit = node.config().maxServeQueue;
        if (pending.size() >= limit) {
            channel.config().setAutoRead(false);
        } else if (pending.size() <= limit / 2 && !channel.config().isAutoRead()) {
            channel.config().setAutoRead(true);
        }
    }

    private void answer(Message m) {
        switch (m) {
            case Message.Request r -> serve(r);
            case Message.GetManifest g -> {
                LocalModel lm = node.models().get(g.model());
                if (lm == null) {
                    send(new Message.NotFound(g.model()));
                } else {
                    send(new Message.ManifestData(g.model(), lm.manifestJson(),
                            lm.signature() == null ? new byte[0] : lm.signature().toWire()));
                }
            }
            case Message.GetHave g -> {
                if (subscriptions.size() < MAX_SUBSCRIPTIONS) {
                    subscriptions.add(g.model());
                }
                LocalModel lm = node.models().get(g.model());
                send(lm == null ? new Message.NotFound(g.model()) : new Message.HaveMap(g.model(), lm.haveMap()));
            }
            case Message.GetPeers ignored -> send(new Message.Peers(node.gossipFor(this)));
            case Message.Ping p -> send(new Message.Pong(p.token()));
            default -> throw new IllegalStateException("not a request: " + m.type());
        }
    }

    private void serve(Message.Request r) {
        LocalModel lm = node.models().get(r.model());
        LocalShard shard = lm == null ? null : lm.shard(r.shard());
        ChunkFile file;
        try {
            file = shard == null ? null : shard.open(r.chunk());
        } catch (IOException e) {
            file = null;
        }
        if (file == null) {
            send(new Message.Reject(r.id(), Message.Reject.NOT_FOUND));
            return;
        }
        writesInFlight++;
        int len = file.length();
        try {
            node.config().responder.respond(channel, r, file).addListener(f -> {
                writesInFlight--;
                if (f.isSuccess()) {
                    node.served(len);
                    markUseful();
                    drain();
                } else {
                    channel.close();
                }
            });
        } catch (IOException | RuntimeException e) {
            writesInFlight--;
            try {
                file.channel().close();
            } catch (IOException ignored) {
                // already failing
            }
            send(new Message.Reject(r.id(), Message.Reject.NOT_FOUND));
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (authenticated) {
            drain();
        }
        ctx.fireChannelWritabilityChanged();
    }

    /**
     * Periodic, on the event loop: closes a connection that has sent no complete frame while the node was reading
     * from it, or whose queued output has not moved, for the idle timeout (a peer trickling bytes or not reading is
     * as dead as a silent one), and pings when this side has sent nothing for the keep-alive interval.
     */
    private void tick() {
        if (!channel.isActive()) {
            return;
        }
        long now = System.nanoTime();
        long idle = node.config().idleTimeout.toNanos();
        io.netty.channel.ChannelOutboundBuffer out = channel.unsafe().outboundBuffer();
        Object current = out == null ? null : out.current();
        long progress = current == null ? 0 : out.currentProgress();
        if (current == null || current != outCurrent || progress != outProgress) {
            outCurrent = current;
            outProgress = progress;
            outProgressNanos = now;
        }
        if (!channel.config().isAutoRead()) {
            lastFrameInNanos = now; // not reading (its answers are backed up): only output progress counts
        }
        if (now - lastFrameInNanos > idle || now - outProgressNanos > idle) {
            node.silent(this);
            channel.close();
            return;
        }
        if (authenticated && now - lastWriteNanos >= node.config().keepAlive.toNanos()) {
            sendOptional(new Message.Ping(now));
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof io.netty.handler.codec.DecoderException || cause instanceof ProtocolViolation) {
            node.protocolError(this, cause, authenticated);
        }
        ctx.close(); // I/O errors (reset, broken pipe) just end the connection
    }

    private void releaseHandshakeSlot() {
        if (handshakeSlot) {
            handshakeSlot = false;
            node.admission().endHandshake(remoteIp);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (handshakeTimer != null) {
            handshakeTimer.cancel(false);
        }
        if (ticker != null) {
            ticker.cancel(false);
        }
        releaseHandshakeSlot();
        ClosedChannelException closed = new ClosedChannelException();
        ready.completeExceptionally(new IOException("connection to " + ctx.channel().remoteAddress()
                + " closed before the handshake completed"));
        for (Iterator<CompletableFuture<Message.Piece>> it = pieces.values().iterator(); it.hasNext(); ) {
            it.next().completeExceptionally(closed);
            it.remove();
        }
        manifestWaiters.values().forEach(l -> l.forEach(f -> f.completeExceptionally(closed)));
        haveWaiters.values().forEach(l -> l.forEach(f -> f.completeExceptionally(closed)));
        manifestWaiters.clear();
        haveWaiters.clear();
        pending.clear();
        if (authenticated) {
            node.unregistered(this);
        }
        ctx.fireChannelInactive();
    }
}
