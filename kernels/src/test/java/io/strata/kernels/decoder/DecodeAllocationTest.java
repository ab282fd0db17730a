package io.strata.kernels.decoder;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.core.model.DType;
import io.strata.core.model.ModelFamily;
import io.strata.core.model.ExpertId;
import io.strata.core.model.ExpertProjection;
import io.strata.core.weights.ExpertWeights;
import io.strata.core.weights.TensorView;
import io.strata.core.weights.WeightSource;
import com.fasterxml.jackson.databind.JsonNode;
import java.lang.management.ManagementFactory;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A decode step allocates its outputs (the logits, the routing record, the step record) and nothing per matvec,
 * per layer or per kernel call: measured on the decoding thread once the JIT has compiled the step.
 */
class DecodeAllocationTest {
    @Test
    void aDecodeStepAllocatesOnlyItsOutputs() {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        RandomMoeModel model = new RandomMoeModel(ModelFamily.MIXTRAL, DType.BF16, 2, true);
        try (MapWeightSource map = model.source(); WeightSource src = new HandleCachingSource(map)) {
            MoeDecoder d = new MoeDecoder(src, DecoderOptions.defaults().withThreads(1).withSpeculativePrefetch(false));
            ModelConfig c = d.config();
            // logits, one routing array pair per layer (kept by the record, and the copies the source gets), the
            // records and the step list; and the KV cache's page views, two per layer (one page: < 64 positions; a
            // partial page's view slices both segments)
            long outputs = 16 + 4L * c.vocabSize() + c.numLayers() * 4L * (16 + 4 * c.expertsPerToken()) + 512
                    + 2L * c.numLayers() * 128;
            long perStep = Long.MAX_VALUE;
            // until the JIT has compiled the step (vector code the interpreter runs allocates), at most 30k steps
            for (int window = 0; window < 500 && perStep > outputs; window++) {
                try (Sequence s = d.newSequence()) {
                    s.step(3);
                    long before = mx.getCurrentThreadAllocatedBytes();
                    for (int t = 0; t < 60; t++) {
                        s.step(t % 90);
                    }
                    perStep = (mx.getCurrentThreadAllocatedBytes() - before) / 60;
                }
            }
            assertTrue(perStep <= outputs, "a step allocated " + perStep + " bytes, its outputs take ~" + outputs);
        }
    }

    /** Expert handles made once, so that the source's own allocations do not count against the decoder. */
    private static final class HandleCachingSource implements WeightSource {
        private final WeightSource inner;
        private final Map<Long, ExpertWeights> handles = new HashMap<>();

        HandleCachingSource(WeightSource inner) {
            this.inner = inner;
        }

        @Override
        public JsonNode config() {
            return inner.config();
        }

        @Override
        public TensorView dense(String name) {
            return inner.dense(name);
        }

        @Override
        public boolean hasTensor(String name) {
            return inner.hasTensor(name);
        }

        @Override
        public ExpertWeights expert(int layer, int expert) {
            return handles.computeIfAbsent((long) layer << 32 | expert, k -> {
                Map<ExpertProjection, TensorView> t = new HashMap<>();
                try (ExpertWeights w = inner.expert(layer, expert)) {
                    for (ExpertProjection p : ExpertProjection.values()) {
                        t.put(p, w.tensor(p));
                    }
                }
                ExpertId id = new ExpertId(layer, expert);
                return new ExpertWeights() {
                    @Override
                    public ExpertId id() {
                        return id;
                    }

                    @Override
                    public TensorView tensor(ExpertProjection projection) {
                        return t.get(projection);
                    }

                    @Override
                    public void close() {
                    }
                };
            });
        }
    }
}
