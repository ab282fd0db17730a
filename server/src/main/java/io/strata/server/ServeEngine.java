package io.strata.server;

import io.strata.kernels.decoder.DecoderOptions;
import io.strata.kernels.decoder.ForwardStep;
import io.strata.kernels.decoder.MoeDecoder;
import io.strata.kernels.decoder.Routing;
import io.strata.kernels.decoder.Sampler;
import io.strata.kernels.decoder.Sequence;
import io.strata.loader.kv.KvStats;
import io.strata.loader.kv.PagedKvStore;
import io.strata.loader.runtime.ModelRuntime;
import io.strata.text.StreamingDecoder;
import io.strata.text.Tokenizer;
import io.strata.text.chat.ChatMessage;
import io.strata.text.chat.ChatTemplate;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

/**
 * Generation for the server: one {@link ModelRuntime} and one {@link MoeDecoder} (immutable, shared) serve many
 * requests, each on its own {@link Sequence} with its own KV pages.
 *
 * <p>Why this schedule: the decoder's kernels already spread one token over every core, and every sequence pages
 * the same experts through the same byte budgets, so two forward passes at once would only split the cores and
 * evict each other's experts. So exactly one forward pass runs at a time (a fair {@link ReentrantLock}, handed on
 * after every step); up to {@code parallel} sequences are admitted and take turns token by token, so a short
 * request is not stuck behind a long one; the rest wait in a bounded FIFO queue (full: the caller answers 429).
 * {@code parallel} bounds the KV pages held at once. A request whose client went away stops at its next step
 * and closes its sequence, which frees its KV pages.
 */
public final class ServeEngine implements AutoCloseable {
    /** What a generation streams back; called on the generation thread. */
    public interface Sink {
        /** New text (never empty). */
        void text(String delta);
    }

    /** A request, validated. {@code stops} are strings that end the text (not included). */
    public record Request(List<Integer> prompt, int maxTokens, double temperature, double topP, long seed,
                          List<String> stops) {
    }

    /** The outcome: {@code finish} is "stop" (EOS or a stop string) or "length". */
    public record Result(String text, int promptTokens, int completionTokens, String finish) {
    }

    private final ModelRuntime runtime;
    private final MoeDecoder decoder;
    private final PagedKvStore kv;
    private final Tokenizer tokenizer;
    private final ChatTemplate template;
    private final Set<Integer> eos;
    private final String modelId;
    private final int parallel;
    private final ThreadPoolExecutor pool;
    private final ReentrantLock turn = new ReentrantLock(true);
    private final ServerCounters counters = new ServerCounters();
    private final AtomicLongArray expertUse;
    private final int experts;
    private final int layers;
    private final AtomicInteger active = new AtomicInteger();

    /**
     * {@code kv} may be null (plain heap KV pages); {@code template} may be null (no chat endpoint); the engine
     * owns neither the runtime nor the KV store.
     */
    public ServeEngine(ModelRuntime runtime, DecoderOptions options, PagedKvStore kv, Tokenizer tokenizer,
                       ChatTemplate template, Set<Integer> eos, String modelId, int parallel, int queue) {
        if (parallel < 1 || queue < 0) {
            throw new IllegalArgumentException("--parallel must be >= 1 and --queue >= 0, got " + parallel + ", "
                    + queue);
        }
        this.runtime = runtime;
        this.decoder = new MoeDecoder(runtime, options);
        this.kv = kv;
        this.tokenizer = tokenizer;
        this.template = template;
        this.eos = Set.copyOf(eos);
        this.modelId = modelId;
        this.parallel = parallel;
        this.layers = decoder.config().numLayers();
        this.experts = Math.max(1, decoder.config().numExperts());
        this.expertUse = new AtomicLongArray(layers * experts);
        AtomicInteger n = new AtomicInteger();
        this.pool = new ThreadPoolExecutor(parallel, parallel, 0, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(Math.max(1, queue)), r -> {
                    Thread t = new Thread(r, "strata-serve-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
    }

    public String modelId() {
        return modelId;
    }

    public ModelRuntime runtime() {
        return runtime;
    }

    public int parallel() {
        return parallel;
    }

    public ServerCounters counters() {
        return counters;
    }

    public Optional<KvStats> kvStats() {
        return kv == null ? Optional.empty() : Optional.of(kv.stats());
    }

    public int activeSequences() {
        return active.get();
    }

    public int queued() {
        return pool.getQueue().size();
    }

    public int layers() {
        return layers;
    }

    public int experts() {
        return experts;
    }

    /** Routed uses of expert {@code e} of layer {@code l} since start. */
    public long expertUse(int l, int e) {
        return expertUse.get(l * experts + e);
    }

    public boolean hasChatTemplate() {
        return template != null;
    }

    public int vocabSize() {
        return decoder.config().vocabSize();
    }

    /** The prompt ids of plain text (BOS as the tokenizer adds it). */
    public List<Integer> encode(String text) {
        return ids(tokenizer.encode(text, true));
    }

    /** The prompt ids of a conversation, rendered by the chat template with the assistant's turn opened. */
    public List<Integer> encodeChat(List<ChatMessage> messages) {
        if (template == null) {
            throw new IllegalStateException("the model's tokenizer has no chat template");
        }
        String rendered = template.render(messages, true, tokenizer);
        return ids(tokenizer.encode(rendered, false));
    }

    private static List<Integer> ids(int[] a) {
        List<Integer> l = new ArrayList<>(a.length);
        for (int i : a) {
            l.add(i);
        }
        return l;
    }

    /**
     * Queues {@code req}; {@code then} gets the result (or the failure) on the generation thread.
     * {@code cancelled} is polled before every step.
     *
     * @throws RejectedExecutionException when the queue is full
     */
    public void submit(Request req, Sink sink, BooleanSupplier cancelled,
                       java.util.function.BiConsumer<Result, Throwable> then) {
        counters.requests.incrementAndGet();
        pool.execute(() -> {
            Result r;
            try {
                r = generate(req, sink, cancelled);
            } catch (Throwable t) {
                then.accept(null, t);
                return;
            }
            then.accept(r, null);
        });
    }

    /** Runs {@code req} on this thread, taking turns with the other admitted sequences. */
    Result generate(Request req, Sink sink, BooleanSupplier cancelled) {
        if (cancelled.getAsBoolean()) {
            counters.cancelled.incrementAndGet();
            throw new CancellationException("client went away while queued");
        }
        Sampler sampler = req.temperature() == 0 ? Sampler.greedy()
                : Sampler.temperature(req.temperature(), req.topP(), req.seed());
        StopText text = new StopText(tokenizer, req.stops(), sink);
        active.incrementAndGet();
        long t0 = System.nanoTime();
        AtomicLong promptNanos = new AtomicLong();
        List<Integer> generated = List.of();
        boolean stoppedByText = false;
        boolean wentAway = false;
        turn.lock();
        try (Sequence seq = kv == null ? decoder.newSequence()
                : decoder.newSequence(kv.newSequence(decoder.config().kvDim(), layers))) {
            try {
                generated = seq.generate(req.prompt(), req.maxTokens(), sampler, eos, (ForwardStep s) -> {
                    if (s.prompt()) {
                        promptNanos.addAndGet(s.nanos());
                    } else {
                        counters.decodeNanos.addAndGet(s.nanos());
                        counters.stallNanos.addAndGet(s.expertWaitNanos());
                    }
                    count(s.routing());
                    if (s.sampled() >= 0) {
                        counters.completionTokens.incrementAndGet();
                        if (!eos.contains(s.sampled()) && text.push(s.sampled())) {
                            throw new StopReached();
                        }
                    }
                    // hand the compute turn to the next admitted sequence (fair lock: longest waiter first)
                    turn.unlock();
                    turn.lock();
                    if (cancelled.getAsBoolean()) {
                        throw new CancellationException("client went away");
                    }
                });
            } catch (StopReached e) {
                stoppedByText = true;
            } catch (CancellationException e) {
                wentAway = true;
                throw e;
            }
        } finally {
            turn.unlock();
            active.decrementAndGet();
            if (wentAway) { // counted once the sequence is closed, so a reader of the count sees its pages freed
                counters.cancelled.incrementAndGet();
            }
            counters.promptNanos.addAndGet(promptNanos.get());
            counters.promptTokens.addAndGet(req.prompt().size());
            counters.requestNanos.addAndGet(System.nanoTime() - t0);
        }
        int n = stoppedByText ? text.tokens() : generated.size();
        boolean eosEnd = !generated.isEmpty() && eos.contains(generated.getLast());
        String out = text.finish(stoppedByText);
        counters.completed.incrementAndGet();
        return new Result(out, req.prompt().size(), n, stoppedByText || eosEnd ? "stop" : "length");
    }

    private void count(Routing r) {
        if (r == null) {
            return;
        }
        for (int l = 0; l < Math.min(layers, r.layers()); l++) {
            int[] e = r.experts(l);
            if (e != null) {
                for (int x : e) {
                    if (x >= 0 && x < experts) {
                        expertUse.incrementAndGet(l * experts + x);
                    }
                }
            }
        }
    }

    @Override
    public void close() {
        pool.shutdownNow();
        try {
            pool.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Thrown from the step listener when a stop string appeared: ends generation early. */
    private static final class StopReached extends RuntimeException {
        StopReached() {
            super(null, null, false, false);
        }
    }

    /**
     * Decoded text with stop strings: text is handed to the sink as it comes, except a tail that could still turn
     * into a stop string, which is held until it cannot.
     */
    static final class StopText {
        private final Tokenizer tokenizer;
        private final StreamingDecoder decoder;
        private final List<String> stops;
        private final Sink sink;
        private final StringBuilder text = new StringBuilder();
        private int sent;
        private int tokens;
        private int cut = -1;

        StopText(Tokenizer tokenizer, List<String> stops, Sink sink) {
            this.tokenizer = tokenizer;
            this.decoder = tokenizer.streamingDecoder(true);
            this.stops = stops;
            this.sink = sink;
        }

        /** Adds a token; true when a stop string is now complete. */
        boolean push(int id) {
            tokens++;
            if (tokenizer.token(id).isEmpty()) {
                return false;
            }
            text.append(decoder.push(id));
            return flush(false);
        }

        int tokens() {
            return tokens;
        }

        private boolean flush(boolean end) {
            int limit = text.length();
            for (String s : stops) {
                int i = text.indexOf(s, Math.max(0, sent - s.length() + 1));
                if (i >= 0 && i < limit) {
                    limit = i;
                    cut = i;
                }
            }
            if (cut < 0 && !end) {
                limit = text.length() - heldTail();
            }
            if (limit > sent) {
                sink.text(text.substring(sent, limit));
                sent = limit;
            }
            return cut >= 0;
        }

        /** Length of the longest suffix of the text that is a proper prefix of a stop string. */
        private int heldTail() {
            int held = 0;
            for (String s : stops) {
                for (int k = Math.min(s.length() - 1, text.length() - sent); k > held; k--) {
                    if (s.startsWith(text.substring(text.length() - k))) {
                        held = k;
                        break;
                    }
                }
            }
            return held;
        }

        String finish(boolean stopped) {
            if (!stopped) {
                text.append(decoder.finish());
                flush(true);
            }
            return text.substring(0, cut >= 0 ? cut : text.length());
        }
    }
}
