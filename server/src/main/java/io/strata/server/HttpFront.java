package io.strata.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A small HTTP/1.1 server on Netty's codec: exact-path routes, bodies capped at {@link #MAX_BODY} (413 past it),
 * idle connections closed after five minutes, and every error an OpenAI-style JSON object
 * ({@code {"error":{"message","type","param","code"}}}), never a stack trace. {@code strata serve} adds the
 * OpenAI routes to it; every front has {@code /metrics}, {@code /status.json} and the status page at {@code /}.
 * Netty rather than the JDK's com.sun.net.httpserver because Netty is already here and gives streaming writes,
 * back-pressure and a close event per connection, which cancelling a disconnected stream needs.
 */
final class HttpFront implements AutoCloseable {
    /** Request bodies above this are refused with 413 before they are buffered. */
    public static final int MAX_BODY = 1 << 20;
    /** A connection with no traffic either way for this long is closed (a queued stream has sent its head). */
    static final int IDLE_SECONDS = 300;
    static final ObjectMapper JSON = new ObjectMapper();

    /** A route: answers the request on {@code ctx} (now or later, from any thread); reads the body before returning. */
    @FunctionalInterface
    public interface Route {
        void handle(ChannelHandlerContext ctx, FullHttpRequest req) throws Exception;
    }

    /** A request error: its status, OpenAI error type, message and offending parameter. */
    public static final class HttpError extends RuntimeException {
        final HttpResponseStatus status;
        final String type;
        final String param;
        final String code;

        public HttpError(HttpResponseStatus status, String type, String message, String param, String code) {
            super(message, null, false, false);
            this.status = status;
            this.type = type;
            this.param = param;
            this.code = code;
        }

        public static HttpError invalid(String param, String message) {
            return new HttpError(HttpResponseStatus.BAD_REQUEST, "invalid_request_error", message, param, null);
        }
    }

    private final Map<String, Route> routes = new LinkedHashMap<>();
    private final EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final EventLoopGroup workers = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    private final Runnable onBadRequest;
    private Channel channel;

    /** {@code onBadRequest} counts 4xx answers (metrics). */
    public HttpFront(Runnable onBadRequest) {
        this.onBadRequest = onBadRequest;
    }

    /** Adds a route for {@code method} and exact {@code path}. */
    public HttpFront route(HttpMethod method, String path, Route r) {
        routes.put(method.name() + " " + path, r);
        return this;
    }

    /** Serves {@code resource} (a classpath resource of this module) at {@code path}. */
    public HttpFront resource(String path, String resource, String contentType) {
        byte[] body;
        try (InputStream in = HttpFront.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + resource);
            }
            body = in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return route(HttpMethod.GET, path, (ctx, req) -> send(ctx, req, HttpResponseStatus.OK, contentType, body));
    }

    /** Binds {@code host:port} (port 0: any free port). */
    public HttpFront start(String host, int port) throws InterruptedException {
        ServerBootstrap b = new ServerBootstrap().group(boss, workers).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new IdleStateHandler(0, 0, IDLE_SECONDS, TimeUnit.SECONDS))
                                .addLast(new HttpServerCodec(8192, 16384, 16384))
                                .addLast(new Aggregator())
                                .addLast(new Dispatcher());
                    }
                });
        channel = b.bind(host, port).sync().channel();
        return this;
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) channel.localAddress();
    }

    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

    /** Idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        if (channel != null) {
            channel.close().syncUninterruptibly();
        }
        boss.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        workers.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** The body of {@code req} as a JSON object, or a 400. */
    public static JsonNode jsonBody(FullHttpRequest req) {
        String type = req.headers().get(HttpHeaderNames.CONTENT_TYPE, "");
        if (!type.isEmpty() && !type.toLowerCase(java.util.Locale.ROOT).startsWith("application/json")) {
            throw new HttpError(HttpResponseStatus.UNSUPPORTED_MEDIA_TYPE, "invalid_request_error",
                    "Content-Type must be application/json, got " + type, null, null);
        }
        JsonNode n;
        try {
            n = JSON.readTree(req.content().toString(StandardCharsets.UTF_8));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw HttpError.invalid(null, "the body is not valid JSON: " + e.getOriginalMessage());
        }
        if (n == null || !n.isObject()) {
            throw HttpError.invalid(null, "the body must be a JSON object");
        }
        return n;
    }

    public static void sendJson(ChannelHandlerContext ctx, FullHttpRequest req, HttpResponseStatus status, JsonNode body) {
        try {
            send(ctx, req, status, "application/json", JSON.writeValueAsBytes(body));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void send(ChannelHandlerContext ctx, FullHttpRequest req, HttpResponseStatus status, String contentType,
                     byte[] body) {
        boolean keepAlive = req != null && HttpUtil.isKeepAlive(req);
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(body));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length)
                .set(HttpHeaderNames.CACHE_CONTROL, "no-store");
        if (keepAlive) {
            r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            ctx.writeAndFlush(r);
        } else {
            r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
        }
    }

    /** The OpenAI error object for {@code e}. */
    public static ObjectNode errorBody(HttpError e) {
        ObjectNode root = JSON.createObjectNode();
        ObjectNode err = root.putObject("error");
        err.put("message", e.getMessage());
        err.put("type", e.type);
        err.put("param", e.param);
        err.put("code", e.code);
        return root;
    }

    void sendError(ChannelHandlerContext ctx, FullHttpRequest req, HttpError e) {
        if (e.status.code() >= 400 && e.status.code() < 500) {
            onBadRequest.run();
        }
        sendJson(ctx, req, e.status, errorBody(e));
    }

    /** Caps bodies; an oversized one gets a JSON 413 (the default answers without a body). */
    private final class Aggregator extends HttpObjectAggregator {
        Aggregator() {
            super(MAX_BODY, true);
        }

        @Override
        protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
            onBadRequest.run();
            HttpError e = new HttpError(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "invalid_request_error",
                    "the request body is larger than " + MAX_BODY + " bytes", null, "body_too_large");
            byte[] body;
            try {
                body = JSON.writeValueAsBytes(errorBody(e));
            } catch (IOException x) {
                throw new UncheckedIOException(x);
            }
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, e.status,
                    Unpooled.wrappedBuffer(body));
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json")
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
            long declared = HttpUtil.getContentLength(oversized, -1L);
            if (declared > 0 && declared <= 8L * MAX_BODY) {
                // a client still sending its body must be able to read the answer: the aggregator discards the
                // rest of the body and the connection lives on; a bigger declared body is cut off at once
                ctx.writeAndFlush(r);
            } else {
                r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
                ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
            }
        }
    }

    private final class Dispatcher extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            if (!req.decoderResult().isSuccess()) {
                sendError(ctx, null, HttpError.invalid(null, "malformed HTTP request"));
                return;
            }
            String path = new QueryStringDecoder(req.uri()).path();
            Route r = routes.get(req.method().name() + " " + path);
            try {
                if (r == null) {
                    boolean other = routes.keySet().stream().anyMatch(k -> k.endsWith(" " + path));
                    throw other
                            ? new HttpError(HttpResponseStatus.METHOD_NOT_ALLOWED, "invalid_request_error",
                            req.method() + " is not allowed on " + path, null, null)
                            : new HttpError(HttpResponseStatus.NOT_FOUND, "invalid_request_error",
                            "no route " + req.method() + " " + path, null, "not_found");
                }
                r.handle(ctx, req); // routes read the body now; headers stay readable after it is released
            } catch (HttpError e) {
                sendError(ctx, req, e);
            } catch (Exception e) {
                sendJson(ctx, req, HttpResponseStatus.INTERNAL_SERVER_ERROR, errorBody(new HttpError(
                        HttpResponseStatus.INTERNAL_SERVER_ERROR, "server_error", String.valueOf(e.getMessage()),
                        null, null)));
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
            if (evt instanceof IdleStateEvent) {
                ctx.close();
            } else {
                super.userEventTriggered(ctx, evt);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close(); // a reset connection, or a codec failure: nothing to answer to
        }
    }

    static ByteBuf utf8(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.UTF_8);
    }
}
