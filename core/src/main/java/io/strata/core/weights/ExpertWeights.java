package io.strata.core.weights;

import io.strata.core.model.ExpertId;
import io.strata.core.model.ExpertProjection;

/**
 * One expert's weights, pinned in some tier for as long as the handle is open: nothing evicts or unmaps them
 * until {@link #close()}. Projections are {@link ExpertProjection}s whatever the checkpoint's naming (Mixtral's
 * w1/w3/w2, Hugging Face's gate/up/down_proj). Reading after close throws {@link IllegalStateException}.
 */
public interface ExpertWeights extends AutoCloseable {
    ExpertId id();

    TensorView tensor(ExpertProjection projection);

    @Override
    void close();
}
