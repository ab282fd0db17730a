package io.strata.loader.kv;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.core.model.ExpertId;
import io.strata.core.model.Layout;
import io.strata.core.weights.ExpertWeights;
import io.strata.core.weights.TensorView;
import io.strata.core.weights.WeightSource;
import io.strata.kernels.decoder.Architecture;
import io.strata.storage.safetensors.Checkpoint;
import io.strata.storage.safetensors.SafetensorsTensor;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** The tiny-mixtral-f32 fixture as a zero-copy {@link WeightSource} (every tensor mapped, row layout). */
final class FixtureWeights implements WeightSource {
    private final Checkpoint ckpt;
    private final Map<String, TensorView> tensors = new HashMap<>();
    private final Architecture arch;

    FixtureWeights(Checkpoint ckpt) {
        this.ckpt = ckpt;
        for (SafetensorsTensor t : ckpt.tensors().values()) {
            tensors.put(t.name(), new TensorView(t.name(), t.data(), t.dtype(), t.shape(), Layout.ROW));
        }
        this.arch = Architecture.forModelType(ckpt.config().get("model_type").asText());
    }

    static Path fixtureDir() {
        return Path.of(System.getProperty("strata.shared", "../shared"), "fixtures", "tiny-mixtral-f32");
    }

    static FixtureWeights open() {
        return new FixtureWeights(Checkpoint.open(fixtureDir()));
    }

    @Override
    public JsonNode config() {
        return ckpt.config();
    }

    @Override
    public TensorView dense(String name) {
        TensorView t = tensors.get(name);
        if (t == null) {
            throw new IllegalArgumentException("no tensor " + name + " in " + ckpt.source());
        }
        return t;
    }

    @Override
    public boolean hasTensor(String name) {
        return tensors.containsKey(name);
    }

    @Override
    public ExpertWeights expert(int layer, int expert) {
        ExpertId id = new ExpertId(layer, expert);
        Map<String, TensorView> p = Map.of(
                ExpertWeights.W1, dense(arch.expert(layer, expert, "w1")),
                ExpertWeights.W2, dense(arch.expert(layer, expert, "w2")),
                ExpertWeights.W3, dense(arch.expert(layer, expert, "w3")));
        return new ExpertWeights() {
            @Override
            public ExpertId id() {
                return id;
            }

            @Override
            public TensorView tensor(String projection) {
                return p.get(projection);
            }

            @Override
            public void close() {
            }
        };
    }

    @Override
    public void close() {
        ckpt.close();
    }
}
