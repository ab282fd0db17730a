package io.strata.kernels.decoder;

/** Observes every forward pass (progress printing, JSON logits, routing traces). Called on the decoding thread. */
@FunctionalInterface
public interface StepListener {
    StepListener NONE = step -> { };

    void onStep(ForwardStep step);
}
