package io.strata.storage.safetensors;

import io.strata.core.model.Layout;
import io.strata.core.weights.TensorView;
import io.strata.core.weights.InMemoryWeightSource;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * A Hugging Face checkpoint read in place as a decoder weight source: every tensor a zero-copy slice of its mapped
 * safetensors file (row layout), nothing paged or budgeted. For references, tests and benchmarks; the paging
 * runtime is {@code io.strata.loader.runtime.ModelRuntime}.
 */
public final class CheckpointWeights extends InMemoryWeightSource {
    private final Checkpoint checkpoint;

    private CheckpointWeights(Checkpoint checkpoint) {
        super(checkpoint.config(), views(checkpoint));
        this.checkpoint = checkpoint;
    }

    /** Opens a checkpoint directory (or one .safetensors file) and maps its tensors. */
    public static CheckpointWeights open(Path source) {
        Checkpoint c = Checkpoint.open(source);
        try {
            return new CheckpointWeights(c);
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
    }

    private static Map<String, TensorView> views(Checkpoint c) {
        Map<String, TensorView> m = new HashMap<>();
        for (SafetensorsTensor t : c.tensors().values()) {
            m.put(t.name(), new TensorView(t.name(), t.data(), t.dtype(), t.shape(), Layout.ROW));
        }
        return m;
    }

    /** Unmaps the checkpoint; views handed out before are unreadable afterwards. */
    @Override
    public void close() {
        checkpoint.close();
    }
}
