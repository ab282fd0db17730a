package io.strata.loader.runtime;

import io.strata.core.model.DType;
import io.strata.core.model.Layout;
import io.strata.core.model.ModelFamily;
import io.strata.storage.convert.ConvertOptions;
import io.strata.storage.convert.ProgressListener;
import io.strata.storage.convert.ShardConverter;
import io.strata.storage.synth.SyntheticCheckpoint;
import java.nio.file.Path;

/** Small real checkpoints, generated and converted with the project's own converter. */
final class TestModels {
    private TestModels() {
    }

    /** Source checkpoint dir and converted dir. */
    record Model(Path source, Path converted) {
    }

    static Model mixtral(Path root, int layers, int experts, int hidden, int intermediate, Layout layout, int tp)
            throws Exception {
        return build(root, ModelFamily.MIXTRAL, layers, experts, hidden, intermediate, layout, tp);
    }

    static Model build(Path root, ModelFamily family, int layers, int experts, int hidden, int intermediate,
                       Layout layout, int tp) throws Exception {
        Path src = root.resolve("src");
        Path out = root.resolve("converted");
        SyntheticCheckpoint.builder().family(family).dtype(DType.F32).hidden(hidden).intermediate(intermediate)
                .layers(layers).heads(4).kvHeads(2).headDim(hidden / 4).experts(experts).topK(2).vocab(64)
                .seed(11).write(src);
        ShardConverter.convert(src, out, ConvertOptions.defaults().withLayout(layout, tp).withShardSize(256 << 10)
                .withChunkSize(4096), ProgressListener.NONE);
        return new Model(src, out);
    }

    /** One expert group's bytes, from the converted model's manifest. */
    static long expertBytes(Model m) {
        return io.strata.core.manifest.ManifestCodec.read(m.converted()).moeConfig().expertBytes();
    }

    static String expertTensor(ModelFamily family, int layer, int expert, String projection) {
        String p = "model.layers." + layer + ".";
        if (family == ModelFamily.QWEN3_MOE) {
            String n = switch (projection) {
                case "w1" -> "gate_proj";
                case "w2" -> "down_proj";
                default -> "up_proj";
            };
            return p + "mlp.experts." + expert + "." + n + ".weight";
        }
        return p + "block_sparse_moe.experts." + expert + "." + projection + ".weight";
    }
}
