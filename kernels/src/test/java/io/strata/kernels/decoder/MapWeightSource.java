package io.strata.kernels.decoder;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.core.model.DType;
import io.strata.core.model.ExpertId;
import io.strata.core.model.Layout;
import io.strata.core.weights.ExpertWeights;
import io.strata.core.weights.TensorView;
import io.strata.core.weights.WeightSource;
import io.strata.storage.safetensors.Checkpoint;
import io.strata.storage.safetensors.SafetensorsTensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Test WeightSource over named tensors held in memory (or mapped from a checkpoint). Counts expert pins so tests
 * can check every handle is closed, and records routing/prefetch calls.
 */
final class MapWeightSource implements WeightSource {
    private final JsonNode config;
    private final Map<String, TensorView> tensors;
    private final Architecture arch;
    private final Arena arena;
    int pinned;
    int expertLoads;
    final List<int[]> observed = new ArrayList<>();
    final List<int[]> prefetched = new ArrayList<>();

    MapWeightSource(JsonNode config, Map<String, TensorView> tensors, Arena arena) {
        this.config = config;
        this.tensors = tensors;
        this.arch = Architecture.forModelType(config.get("model_type").asText());
        this.arena = arena;
    }

    /** The checkpoint's tensors as stored (row layout), zero-copy. */
    static MapWeightSource rows(Checkpoint ckpt) {
        Map<String, TensorView> m = new LinkedHashMap<>();
        for (SafetensorsTensor t : ckpt.tensors().values()) {
            m.put(t.name(), new TensorView(t.name(), t.data(), t.dtype(), t.shape(), Layout.ROW));
        }
        return new MapWeightSource(ckpt.config(), m, null);
    }

    /** Every 2-D tensor copied transposed into an off-heap buffer (column layout); same logical shapes. */
    static MapWeightSource columns(JsonNode config, Map<String, TensorView> rowTensors) {
        Arena arena = Arena.ofShared();
        Map<String, TensorView> m = new LinkedHashMap<>();
        for (TensorView t : rowTensors.values()) {
            if (t.shape().length != 2) {
                m.put(t.name(), t);
                continue;
            }
            long rows = t.rows();
            long cols = t.cols();
            int es = t.dtype().byteSize();
            MemorySegment dst = arena.allocate(rows * cols * es, 64);
            for (long r = 0; r < rows; r++) {
                for (long c = 0; c < cols; c++) {
                    MemorySegment.copy(t.data(), (r * cols + c) * es, dst, (c * rows + r) * es, es);
                }
            }
            m.put(t.name(), new TensorView(t.name(), dst, t.dtype(), t.shape(), Layout.COLUMN));
        }
        return new MapWeightSource(config, m, arena);
    }

    Map<String, TensorView> tensors() {
        return tensors;
    }

    @Override
    public JsonNode config() {
        return config;
    }

    @Override
    public TensorView dense(String name) {
        TensorView t = tensors.get(name);
        if (t == null) {
            throw new IllegalArgumentException("no tensor " + name);
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
        pinned++;
        expertLoads++;
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
                return p.get(projection);
            }

            @Override
            public void close() {
                if (!closed) {
                    closed = true;
                    pinned--;
                }
            }
        };
    }

    @Override
    public void prefetch(int layer, int[] experts) {
        int[] r = new int[experts.length + 1];
        r[0] = layer;
        System.arraycopy(experts, 0, r, 1, experts.length);
        prefetched.add(r);
    }

    @Override
    public void observeRouting(int layer, int[] experts) {
        int[] r = new int[experts.length + 1];
        r[0] = layer;
        System.arraycopy(experts, 0, r, 1, experts.length);
        observed.add(r);
    }

    @Override
    public void close() {
        if (arena != null) {
            arena.close();
        }
    }

    static DType dtypeOf(Map<String, TensorView> m) {
        return m.values().iterator().next().dtype();
    }
}
