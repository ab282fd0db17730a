package io.strata.tools.generate;

import io.strata.kernels.decoder.DecoderOptions;
import io.strata.kernels.decoder.Sampler;
import io.strata.loader.kv.KvOptions;
import io.strata.loader.runtime.RuntimeOptions;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * One generation: a converted model, a prompt, and how to page. {@code model} is null when the caller opens the
 * runtime itself (experts from peers, say); {@code kv} null keeps the KV cache in plain heap pages (no budget, no
 * spill). Generation ends after {@code maxNew} tokens or after sampling one of {@code stop} (which is kept).
 */
public record GenerationRequest(Path model, List<Integer> prompt, int maxNew, RuntimeOptions runtime, KvOptions kv,
                                Sampler sampler, DecoderOptions decoder, Set<Integer> stop) {
    public GenerationRequest {
        prompt = List.copyOf(prompt);
        stop = stop == null ? Set.of() : Set.copyOf(stop);
        if (prompt.isEmpty()) {
            throw new IllegalArgumentException("--prompt: at least one token is needed");
        }
        if (maxNew < 0) {
            throw new IllegalArgumentException("--max-new: must be >= 0, got " + maxNew);
        }
    }

    /** A request that generates exactly {@code maxNew} tokens (no stop tokens). */
    public GenerationRequest(Path model, List<Integer> prompt, int maxNew, RuntimeOptions runtime, KvOptions kv,
                             Sampler sampler, DecoderOptions decoder) {
        this(model, prompt, maxNew, runtime, kv, sampler, decoder, Set.of());
    }
}
