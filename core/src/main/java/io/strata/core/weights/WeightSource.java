package io.strata.core.weights;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * What a decoder needs from the runtime: the model config, dense tensors (resident for the source's lifetime)
 * and experts (pinned while a handle is open). Defined in core so that kernels never depend on the loader.
 */
public interface WeightSource extends AutoCloseable {
    /** The checkpoint's config.json. */
    JsonNode config();

    /** A dense tensor by its checkpoint name, e.g. {@code model.layers.0.self_attn.q_proj.weight}. */
    TensorView dense(String name);

    boolean hasTensor(String name);

    /** Pins and returns one expert; blocks until it is resident in the source's compute tier. */
    ExpertWeights expert(int layer, int expert);

    /**
     * Of {@code experts[from..to)} of {@code layer} (all about to be pinned), the index of one whose pin will not
     * wait for I/O, waiting until there is one when all are still being read; one not being read at all may be
     * answered too (its pin reads it). Lets the decoder compute a layer's experts in the order their bytes arrive.
     * Never changes results; a source that cannot tell answers {@code from}.
     */
    default int awaitReady(int layer, int[] experts, int from, int to) {
        return from;
    }

    /**
     * A hint that {@code layer} will soon need {@code experts} (most likely first). Never blocks and never
     * changes results; a source may ignore it.
     */
    default void prefetch(int layer, int[] experts) {
    }

    /** Tells the source which experts {@code layer} actually used this step (trains predictors). */
    default void observeRouting(int layer, int[] experts) {
    }

    /**
     * As {@link #observeRouting(int, int[])}, with the router's gate weight of each chosen expert (a cache policy
     * may keep high-probability experts longer). Called just before those experts are requested.
     */
    default void observeRouting(int layer, int[] experts, float[] weights) {
        observeRouting(layer, experts);
    }

    @Override
    default void close() {
    }
}
