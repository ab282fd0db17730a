package io.strata.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.strata.server.HttpFront.HttpError;
import io.strata.text.chat.ChatMessage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The OpenAI HTTP API over a {@link ServeEngine}: {@code POST /v1/completions}, {@code POST /v1/chat/completions}
 * (JSON, or server-sent events with {@code stream: true}), {@code GET /v1/models}, {@code GET /health}. Fields
 * are checked strictly (type and range, named in the error's {@code param}); unknown fields are ignored, as the
 * OpenAI clients send several this server has no use for.
 */
final class OpenAiApi {
    /** Most tokens one request may ask for, and most prompt tokens. */
    static final int MAX_TOKENS = 4096;
    static final int MAX_PROMPT = 16384;
    private static final Set<String> ROLES = Set.of("system", "user", "assistant");
    private static final AtomicLong IDS = new AtomicLong();

    private final ServeEngine engine;
    private final long created = System.currentTimeMillis() / 1000;

    public OpenAiApi(ServeEngine engine) {
        this.engine = engine;
    }

    /** Adds the API's routes to {@code front}. */
    public void register(HttpFront front) {
        front.route(HttpMethod.POST, "/v1/completions", (ctx, req) -> generate(ctx, req, false))
                .route(HttpMethod.POST, "/v1/chat/completions", (ctx, req) -> generate(ctx, req, true))
                .route(HttpMethod.GET, "/v1/models", this::models)
                .route(HttpMethod.GET, "/health", (ctx, req) -> {
                    ObjectNode n = HttpFront.JSON.createObjectNode();
                    n.put("status", "ok");
                    n.put("model", engine.modelId());
                    n.put("active", engine.activeSequences());
                    n.put("queued", engine.queued());
                    HttpFront.sendJson(ctx, req, HttpResponseStatus.OK, n);
                });
    }

    private void models(ChannelHandlerContext ctx, FullHttpRequest req) {
        ObjectNode root = HttpFront.JSON.createObjectNode();
        root.put("object", "list");
        ObjectNode m = root.putArray("data").addObject();
        m.put("id", engine.modelId());
        m.put("object", "model");
        m.put("created", created);
        m.put("owned_by", "strata");
        HttpFront.sendJson(ctx, req, HttpResponseStatus.OK, root);
    }

    private void generate(ChannelHandlerContext ctx, FullHttpRequest req, boolean chat) {
        JsonNode body = HttpFront.jsonBody(req);
        JsonNode model = body.get("model");
        if (model != null && !model.isNull()) {
            if (!model.isTextual()) {
                throw HttpError.invalid("model", "model must be a string");
            }
            if (!model.asText().equals(engine.modelId())) {
                throw new HttpError(HttpResponseStatus.NOT_FOUND, "invalid_request_error", "The model '"
                        + model.asText() + "' does not exist; this server serves '" + engine.modelId() + "'",
                        "model", "model_not_found");
            }
        }
        List<Integer> prompt = chat ? chatPrompt(body) : completionPrompt(body);
        if (prompt.isEmpty()) {
            throw HttpError.invalid(chat ? "messages" : "prompt", "the prompt encodes to no tokens");
        }
        if (prompt.size() > MAX_PROMPT) {
            throw HttpError.invalid(chat ? "messages" : "prompt", "the prompt is " + prompt.size()
                    + " tokens; at most " + MAX_PROMPT + " are taken");
        }
        intField(body, "n", 1, 1, 1); // one choice per request
        JsonNode mt = body.has("max_completion_tokens") ? body : null;
        int maxTokens = mt != null ? intField(body, "max_completion_tokens", 0, 1, MAX_TOKENS)
                : intField(body, "max_tokens", chat ? 256 : 16, 1, MAX_TOKENS);
        double temperature = number(body, "temperature", 1.0, 0, 2);
        double topP = number(body, "top_p", 1.0, 0, 1);
        if (topP == 0) {
            throw HttpError.invalid("top_p", "top_p must be in (0, 1]");
        }
        long seed = body.hasNonNull("seed") ? longField(body, "seed") : ThreadLocalRandom.current().nextLong();
        List<String> stops = stops(body.get("stop"));
        boolean stream = bool(body, "stream");
        ServeEngine.Request r = new ServeEngine.Request(prompt, maxTokens, temperature, topP, seed, stops);
        String id = (chat ? "chatcmpl-" : "cmpl-") + Long.toHexString(created) + "-" + IDS.incrementAndGet();
        AtomicBoolean gone = new AtomicBoolean();
        ctx.channel().closeFuture().addListener(f -> gone.set(true));
        try {
            if (stream) {
                stream(ctx, req, r, id, chat, gone);
            } else {
                engine.submit(r, delta -> { }, gone::get, (res, err) -> {
                    if (err != null) {
                        failed(ctx, req, err);
                    } else {
                        HttpFront.sendJson(ctx, req, HttpResponseStatus.OK, whole(res, id, chat));
                    }
                });
            }
        } catch (RejectedExecutionException e) {
            engine.counters().rejected.incrementAndGet();
            throw new HttpError(HttpResponseStatus.TOO_MANY_REQUESTS, "rate_limit_error", "the request queue is"
                    + " full (" + engine.parallel() + " running, " + engine.queued() + " queued): retry later",
                    null, "queue_full");
        }
    }

    private void failed(ChannelHandlerContext ctx, FullHttpRequest req, Throwable err) {
        if (err instanceof CancellationException || !ctx.channel().isActive()) {
            ctx.close();
            return;
        }
        HttpFront.sendJson(ctx, req, HttpResponseStatus.INTERNAL_SERVER_ERROR, HttpFront.errorBody(new HttpError(
                HttpResponseStatus.INTERNAL_SERVER_ERROR, "server_error", String.valueOf(err.getMessage()), null,
                null)));
    }

    private void stream(ChannelHandlerContext ctx, FullHttpRequest req, ServeEngine.Request r, String id,
                        boolean chat, AtomicBoolean gone) {
        boolean keepAlive = HttpUtil.isKeepAlive(req);
        // submit first: a full queue must still be able to answer 429 before the event stream starts
        AtomicBoolean headed = new AtomicBoolean();
        Runnable head = () -> {
            if (headed.compareAndSet(false, true)) {
                HttpResponse h = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
                h.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8")
                        .set(HttpHeaderNames.CACHE_CONTROL, "no-cache");
                HttpUtil.setTransferEncodingChunked(h, true);
                HttpUtil.setKeepAlive(h, keepAlive);
                ctx.write(h);
                if (chat) {
                    ObjectNode delta = HttpFront.JSON.createObjectNode();
                    delta.put("role", "assistant");
                    delta.put("content", "");
                    event(ctx, chunk(id, chat, delta, null, null));
                }
            }
        };
        engine.submit(r, text -> {
            head.run();
            if (chat) {
                ObjectNode delta = HttpFront.JSON.createObjectNode();
                delta.put("content", text);
                event(ctx, chunk(id, true, delta, null, null));
            } else {
                event(ctx, chunk(id, false, null, text, null));
            }
        }, gone::get, (res, err) -> {
            if (err != null) {
                if (err instanceof CancellationException || !ctx.channel().isActive()) {
                    ctx.close();
                } else if (!headed.get()) {
                    failed(ctx, req, err);
                } else { // mid-stream failure: an error event (as OpenAI sends), then the stream is cut
                    event(ctx, HttpFront.errorBody(new HttpError(HttpResponseStatus.INTERNAL_SERVER_ERROR,
                            "server_error", String.valueOf(err.getMessage()), null, null)));
                    ctx.close();
                }
                return;
            }
            head.run();
            ObjectNode last = chunk(id, chat, chat ? HttpFront.JSON.createObjectNode() : null, chat ? null : "",
                    res.finish());
            last.set("usage", usage(res));
            event(ctx, last);
            ctx.write(new DefaultHttpContent(HttpFront.utf8("data: [DONE]\n\n")));
            var f = ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
            if (!keepAlive) {
                f.addListener(io.netty.channel.ChannelFutureListener.CLOSE);
            }
        });
        // admitted to the queue (a full one threw above, answered 429): the event stream starts now, so a client
        // waiting for its turn sees the response head at once
        ctx.executor().execute(() -> {
            head.run();
            ctx.flush();
        });
    }

    private static void event(ChannelHandlerContext ctx, ObjectNode n) {
        try {
            ctx.writeAndFlush(new DefaultHttpContent(HttpFront.utf8("data: "
                    + HttpFront.JSON.writeValueAsString(n) + "\n\n")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private ObjectNode chunk(String id, boolean chat, ObjectNode delta, String text, String finish) {
        ObjectNode n = HttpFront.JSON.createObjectNode();
        n.put("id", id);
        n.put("object", chat ? "chat.completion.chunk" : "text_completion");
        n.put("created", System.currentTimeMillis() / 1000);
        n.put("model", engine.modelId());
        ObjectNode c = n.putArray("choices").addObject();
        c.put("index", 0);
        if (chat) {
            c.set("delta", delta);
        } else {
            c.put("text", text);
            c.putNull("logprobs");
        }
        c.put("finish_reason", finish);
        return n;
    }

    private ObjectNode whole(ServeEngine.Result res, String id, boolean chat) {
        ObjectNode n = HttpFront.JSON.createObjectNode();
        n.put("id", id);
        n.put("object", chat ? "chat.completion" : "text_completion");
        n.put("created", System.currentTimeMillis() / 1000);
        n.put("model", engine.modelId());
        ObjectNode c = n.putArray("choices").addObject();
        c.put("index", 0);
        if (chat) {
            ObjectNode m = c.putObject("message");
            m.put("role", "assistant");
            m.put("content", res.text());
        } else {
            c.put("text", res.text());
            c.putNull("logprobs");
        }
        c.put("finish_reason", res.finish());
        n.set("usage", usage(res));
        return n;
    }

    private static ObjectNode usage(ServeEngine.Result res) {
        ObjectNode u = HttpFront.JSON.createObjectNode();
        u.put("prompt_tokens", res.promptTokens());
        u.put("completion_tokens", res.completionTokens());
        u.put("total_tokens", res.promptTokens() + res.completionTokens());
        return u;
    }

    // ---- request fields ------------------------------------------------------------------------------------------

    private List<Integer> completionPrompt(JsonNode body) {
        JsonNode p = body.get("prompt");
        if (p == null || p.isNull()) {
            throw HttpError.invalid("prompt", "prompt is required");
        }
        if (p.isArray() && p.size() == 1 && p.get(0).isTextual()) {
            p = p.get(0);
        }
        if (p.isTextual()) {
            return engine.encode(p.asText());
        }
        if (p.isArray() && !p.isEmpty() && allInts(p)) {
            List<Integer> ids = new ArrayList<>();
            for (JsonNode x : p) {
                int id = x.asInt();
                if (id < 0 || id >= engine.vocabSize()) {
                    throw HttpError.invalid("prompt", "token id " + id + " is outside the vocabulary [0, "
                            + engine.vocabSize() + ")");
                }
                ids.add(id);
            }
            return ids;
        }
        throw HttpError.invalid("prompt", "prompt must be a string, an array of one string or an array of token ids");
    }

    private static boolean allInts(JsonNode a) {
        for (JsonNode x : a) {
            if (!x.isInt()) {
                return false;
            }
        }
        return true;
    }

    private List<Integer> chatPrompt(JsonNode body) {
        if (!engine.hasChatTemplate()) {
            throw HttpError.invalid("messages", "the model's tokenizer has no chat template; use /v1/completions");
        }
        JsonNode ms = body.get("messages");
        if (ms == null || !ms.isArray() || ms.isEmpty()) {
            throw HttpError.invalid("messages", "messages must be a non-empty array");
        }
        List<ChatMessage> out = new ArrayList<>();
        for (int i = 0; i < ms.size(); i++) {
            JsonNode m = ms.get(i);
            String at = "messages[" + i + "]";
            if (!m.isObject()) {
                throw HttpError.invalid(at, at + " must be an object");
            }
            String role = m.path("role").asText(null);
            if (role == null || !m.get("role").isTextual() || !ROLES.contains(role.toLowerCase(Locale.ROOT))) {
                throw HttpError.invalid(at + ".role", at + ".role must be one of " + ROLES);
            }
            out.add(new ChatMessage(role, content(m.get("content"), at + ".content")));
        }
        try {
            return engine.encodeChat(out);
        } catch (RuntimeException e) { // a template's raise_exception (e.g. roles out of order)
            throw HttpError.invalid("messages", "the chat template refused the conversation: " + e.getMessage());
        }
    }

    private static String content(JsonNode c, String at) {
        if (c != null && c.isTextual()) {
            return c.asText();
        }
        if (c != null && c.isArray()) { // [{type:"text", text:"..."}...]
            StringBuilder b = new StringBuilder();
            for (JsonNode part : c) {
                if (!"text".equals(part.path("type").asText()) || !part.path("text").isTextual()) {
                    throw HttpError.invalid(at, at + ": only text parts are supported");
                }
                b.append(part.get("text").asText());
            }
            return b.toString();
        }
        throw HttpError.invalid(at, at + " must be a string or an array of text parts");
    }

    private static List<String> stops(JsonNode s) {
        if (s == null || s.isNull()) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        if (s.isTextual()) {
            out.add(s.asText());
        } else if (s.isArray() && s.size() <= 4) {
            for (JsonNode x : s) {
                if (!x.isTextual()) {
                    throw HttpError.invalid("stop", "stop must be a string or an array of up to 4 strings");
                }
                out.add(x.asText());
            }
        } else {
            throw HttpError.invalid("stop", "stop must be a string or an array of up to 4 strings");
        }
        if (out.stream().anyMatch(String::isEmpty)) {
            throw HttpError.invalid("stop", "stop strings must not be empty");
        }
        return out;
    }

    private static int intField(JsonNode body, String name, int dflt, int min, int max) {
        JsonNode v = body.get(name);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < min || v.asInt() > max) {
            throw HttpError.invalid(name, name + " must be an integer in [" + min + ", " + max + "], got " + v);
        }
        return v.asInt();
    }

    private static long longField(JsonNode body, String name) {
        JsonNode v = body.get(name);
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw HttpError.invalid(name, name + " must be an integer, got " + v);
        }
        return v.asLong();
    }

    private static double number(JsonNode body, String name, double dflt, double min, double max) {
        JsonNode v = body.get(name);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isNumber() || !(v.asDouble() >= min && v.asDouble() <= max)) {
            throw HttpError.invalid(name, name + " must be a number in [" + min + ", " + max + "], got " + v);
        }
        return v.asDouble();
    }

    private static boolean bool(JsonNode body, String name) {
        JsonNode v = body.get(name);
        if (v == null || v.isNull()) {
            return false;
        }
        if (!v.isBoolean()) {
            throw HttpError.invalid(name, name + " must be a boolean, got " + v);
        }
        return v.asBoolean();
    }
}
