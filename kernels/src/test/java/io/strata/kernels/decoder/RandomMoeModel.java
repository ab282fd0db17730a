package io.strata.kernels.decoder;

import io.strata.core.model.ModelFamily;
import com.fasterxml.jackson.databind.JsonNode;
import io.strata.core.model.DType;
import io.strata.core.weights.TensorView;
import java.util.List;
import java.util.Map;

/**
 * Small synthetic checkpoints for the decoder tests, with sizes that are awkward for the vector width, served
 * through the pin-counting {@link MapWeightSource}.
 */
final class RandomMoeModel {
    final JsonNode config;
    final Map<String, TensorView> tensors;
    private final SyntheticMoeModel model;

    /**
     * @param qwenSparseVariant for Qwen3-MoE: true = renormalised top-k and decoder_sparse_step 2; false = plain
     *                          top-k probabilities, layer 1 dense via mlp_only_layers, tied embeddings
     */
    RandomMoeModel(ModelFamily arch, DType dtype, long seed, boolean qwenSparseVariant) {
        boolean mixtral = arch == ModelFamily.MIXTRAL;
        var shape = new SyntheticMoeModel.Shape(arch, dtype, 97, 48, 3, 4, 2, mixtral ? 12 : 16, 6, mixtral ? 2 : 3,
                40, 56, mixtral || qwenSparseVariant, qwenSparseVariant ? 2 : 1,
                List.of(qwenSparseVariant ? 99 : 1), !mixtral && !qwenSparseVariant);
        model = SyntheticMoeModel.generate(shape, seed);
        config = model.config();
        tensors = model.tensors();
    }

    MapWeightSource source() {
        return new MapWeightSource(config, tensors, null) {
            @Override
            public void close() {
                model.close();
            }
        };
    }
}
