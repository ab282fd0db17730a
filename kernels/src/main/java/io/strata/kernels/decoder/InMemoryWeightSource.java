package io.strata.kernels.decoder;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.core.model.ExpertId;
import io.strata.core.weights.ExpertWeights;
import io.strata.core.weights.TensorView;
import io.strata.core.weights.WeightSource;
import java.util.Map;

/**
 * A {@link WeightSource} over tensors already in memory, looked up by checkpoint name; experts are found under
 * the architecture's names (Qwen's gate/up/down served as w1/w3/w2) and need no pinning. Does not own the
 * tensors' memory: closing it does nothing.
 */
public class InMemoryWeightSource implements WeightSource {
    private final JsonNode config;
    private final Map<String, TensorView> tensors;
    private final Architecture architecture;

    public InMemoryWeightSource(JsonNode config, Map<String, TensorView> tensors) {
        this.config = config;
        this.tensors = Map.copyOf(tensors);
        this.architecture = ModelConfig.parse(config).architecture();
    }

    @Override
    public JsonNode config() {
        return config;
    }

    @Override
    public TensorView dense(String name) {
        TensorView t = tensors.get(name);
        if (t == null) {
            throw new IllegalArgumentException("in-memory weights: no tensor named '" + name + "'");
        }
        return t;
    }

    @Override
    public boolean hasTensor(String name) {
        return tensors.containsKey(name);
    }

    /** Every tensor by name. */
    public Map<String, TensorView> tensors() {
        return tensors;
    }

    @Override
    public ExpertWeights expert(int layer, int expert) {
        ExpertId id = new ExpertId(layer, expert);
        Map<String, TensorView> projections = Map.of(
                ExpertWeights.W1, dense(architecture.expert(layer, expert, ExpertWeights.W1)),
                ExpertWeights.W2, dense(architecture.expert(layer, expert, ExpertWeights.W2)),
                ExpertWeights.W3, dense(architecture.expert(layer, expert, ExpertWeights.W3)));
        return new ExpertWeights() {
            private boolean closed;

            @Override
            public ExpertId id() {
                return id;
            }

            @Override
            public TensorView tensor(String projection) {
                if (closed) {
                    throw new IllegalStateException("expert " + id + " is closed");
                }
                TensorView t = projections.get(projection);
                if (t == null) {
                    throw new IllegalArgumentException("expert " + id + ": no projection '" + projection + "'");
                }
                return t;
            }

            @Override
            public void close() {
                closed = true;
            }
        };
    }
}
