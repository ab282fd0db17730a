package io.strata.core.weights;

import io.strata.core.model.ExpertId;

/**
 * One expert's weights, pinned in some tier for as long as the handle is open: nothing evicts or unmaps them
 * until {@link #close()}. Projections are named in Mixtral's terms whatever the checkpoint's naming:
 * {@code w1} = gate_proj, {@code w3} = up_proj, {@code w2} = down_proj. Reading after close throws
 * {@link IllegalStateException}.
 */
public interface ExpertWeights extends AutoCloseable {
    String W1 = "w1";
    String W2 = "w2";
    String W3 = "w3";

    ExpertId id();

    TensorView tensor(String projection);

    @Override
    void close();
}
