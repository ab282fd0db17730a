package io.strata.core.weights;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.core.model.ExpertId;
import io.strata.core.model.ExpertProjection;
import io.strata.core.model.ModelFamily;
import java.util.EnumMap;
import java.util.Map;

/**
 * A {@link WeightSource} over tensors already in memory, looked up by checkpoint name; experts are found under
 * the family's names ({@link ModelFamily#expertTensorName}) and need no pinning. Does not own the tensors'
 * memory: closing it does nothing.
 */
public class InMemoryWeightSource implements WeightSource {
    private final JsonNode config;
    private final Map<String, TensorView> tensors;
    private final ModelFamily family;

    public InMemoryWeightSource(JsonNode config, Map<String, TensorView> tensors) {
        this.config = config;
        this.tensors = Map.copyOf(tensors);
        this.family = ModelFamily.fromConfig(config);
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
        Map<ExpertProjection, TensorView> projections = new EnumMap<>(ExpertProjection.class);
        for (ExpertProjection p : ExpertProjection.values()) {
            projections.put(p, dense(family.expertTensorName(layer, expert, p)));
        }
        return new ExpertWeights() {
            private boolean closed;

            @Override
            public ExpertId id() {
                return id;
            }

            @Override
            public TensorView tensor(ExpertProjection projection) {
                if (closed) {
                    throw new IllegalStateException("expert " + id + " is closed");
                }
                TensorView t = projections.get(projection);
                if (t == null) {
                    throw new IllegalArgumentException("expert " + id + ": no " + projection + " projection");
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
