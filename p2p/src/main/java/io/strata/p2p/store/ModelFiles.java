package io.strata.p2p.store;

import io.strata.core.manifest.BundledFile;
import io.strata.core.manifest.Manifest;
import io.strata.core.manifest.ShardInfo;
import java.util.ArrayList;
import java.util.List;

/**
 * Every file a peer serves and a fetch writes for a model: its shards, then its bundled files (the tokenizer) as
 * further "shards" numbered on from the last, so they travel through the same have-maps, chunk requests, chunk
 * verification, staging and publication as the tensor data, and are held to the same rules.
 */
public final class ModelFiles {
    private ModelFiles() {
    }

    public static List<ShardInfo> of(Manifest m) {
        List<ShardInfo> out = new ArrayList<>(m.shards());
        if (m.tokenizer() != null) {
            for (BundledFile b : m.tokenizer().files()) {
                out.add(b.asShard(out.size()));
            }
        }
        return out;
    }
}
