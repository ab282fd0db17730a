package io.strata.kernels.decoder;

import io.strata.core.weights.InMemoryWeightSource;
import com.fasterxml.jackson.databind.JsonNode;
import io.strata.core.model.ExpertId;
import io.strata.core.model.ExpertProjection;
import io.strata.core.model.Layout;
import io.strata.core.weights.ExpertWeights;
import io.strata.core.weights.TensorView;
import io.strata.storage.safetensors.Checkpoint;
import io.strata.storage.safetensors.SafetensorsTensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Test WeightSource over named tensors (mapped from a checkpoint, or transposed copies). Counts expert pins so
 * tests can check every handle is closed, and records routing/prefetch calls.
 */
class MapWeightSource extends InMemoryWeightSource {
    private final Arena arena;
    int pinned;
    int expertLoads;
    final List<int[]> observed = new ArrayList<>();
    final List<int[]> prefetched = new ArrayList<>();
    /** Expert pins in order, as layer * 1000 + expert. */
    final List<Integer> pinOrder = new ArrayList<>();
    /** Answer awaitReady as if the last of the candidates had arrived first. */
    boolean lastArrivesFirst;

    MapWeightSource(JsonNode config, Map<String, TensorView> tensors, Arena arena) {
        super(config, tensors);
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

    @Override
    public ExpertWeights expert(int layer, int expert) {
        ExpertWeights inner = super.expert(layer, expert);
        pinOrder.add(layer * 1000 + expert);
        pinned++;
        expertLoads++;
        return new ExpertWeights() {
            private boolean closed;

            @Override
            public ExpertId id() {
                return inner.id();
            }

            @Override
            public TensorView tensor(ExpertProjection projection) {
                return inner.tensor(projection);
            }

            @Override
            public void close() {
                if (!closed) {
                    closed = true;
                    inner.close();
                    pinned--;
                }
            }
        };
    }

    @Override
    public int awaitReady(int layer, int[] experts, int from, int to) {
        return lastArrivesFirst ? to - 1 : from;
    }

    @Override
    public void prefetch(int layer, int[] experts) {
        prefetched.add(withLayer(layer, experts));
    }

    @Override
    public void observeRouting(int layer, int[] experts) {
        observed.add(withLayer(layer, experts));
    }

    private static int[] withLayer(int layer, int[] experts) {
        int[] r = new int[experts.length + 1];
        r[0] = layer;
        System.arraycopy(experts, 0, r, 1, experts.length);
        return r;
    }

    @Override
    public void close() {
        if (arena != null) {
            arena.close();
        }
    }
}
