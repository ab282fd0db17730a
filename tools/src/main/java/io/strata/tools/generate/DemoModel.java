package io.strata.tools.generate;

import io.strata.core.manifest.Manifest;
import io.strata.core.model.DType;
import io.strata.core.model.ModelFamily;
import io.strata.core.util.CacheDirs;
import io.strata.core.util.Sizes;
import io.strata.storage.convert.ConvertOptions;
import io.strata.storage.convert.ProgressListener;
import io.strata.storage.convert.ShardConverter;
import io.strata.storage.fs.FileTrees;
import io.strata.storage.synth.SyntheticCheckpoint;
import io.strata.tools.progress.ConversionProgress;
import io.strata.tools.progress.ProgressBar;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The demo's model: a Mixtral-layout BF16 checkpoint (12 layers x 8 experts of 4.5 MiB, dense 23 MiB, a skewed
 * router), generated from a fixed seed and converted once, then reused from the cache by {@code demo} and
 * {@code bench decode}.
 */
public final class DemoModel {
    /** Bump when the shape changes, so an old cache is not reused. */
    public static final String NAME = "mixtral-demo-v1";

    private DemoModel() {
    }

    /** {@code DIR/mixtral-demo-v1}, DIR defaulting to {@code demo} under {@link CacheDirs#root()}. */
    public static Path root(Path dir) {
        return (dir != null ? dir : CacheDirs.root().resolve("demo")).resolve(NAME);
    }

    public static SyntheticCheckpoint.Builder checkpoint() {
        return SyntheticCheckpoint.builder()
                .family(ModelFamily.MIXTRAL).dtype(DType.BF16)
                .hidden(512).intermediate(1536).layers(12).heads(8).kvHeads(2).headDim(64)
                .experts(8).topK(2).vocab(4096).shards(4).routerSkew(1.0).seed(2026);
    }

    /** The converted model under {@code root}, generated and converted first when it is not there yet. */
    public static Path ensure(Path root, PrintWriter out) throws IOException {
        Path model = root.resolve("model");
        if (Files.exists(model.resolve(Manifest.FILE_NAME))) {
            out.printf("demo model: %s (cached; --fresh rebuilds it)%n", model);
            return model;
        }
        Files.createDirectories(root);
        Path checkpoint = root.resolve("checkpoint.tmp");
        deleteTree(checkpoint);
        SyntheticCheckpoint.Builder b = checkpoint();
        out.printf("writing the demo checkpoint (%s of BF16 weights) to %s ...%n", Sizes.format(b.tensorBytes()),
                checkpoint);
        out.flush();
        long t0 = System.nanoTime();
        try {
            b.write(checkpoint);
            out.printf("  done in %.1f s; converting ...%n", (System.nanoTime() - t0) / 1e9);
            out.flush();
            t0 = System.nanoTime();
            ShardConverter.convert(checkpoint, model, ConvertOptions.defaults().withModelId(NAME),
                    ProgressBar.wanted(false, false) ? new ConversionProgress(out) : new ProgressListener() { });
        } finally {
            deleteTree(checkpoint);
        }
        out.printf("  converted in %.1f s to %s%n", (System.nanoTime() - t0) / 1e9, model);
        out.flush();
        return model;
    }

    public static void deleteTree(Path p) throws IOException {
        FileTrees.delete(p);
    }
}
