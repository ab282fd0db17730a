package io.strata.p2p.store;

import io.strata.core.manifest.Manifest;
import io.strata.p2p.wire.ModelHash;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/** The models a node holds, by manifest hash. */
public final class ModelRegistry {
    private final ConcurrentHashMap<ModelHash, LocalModel> models = new ConcurrentHashMap<>();

    public void add(LocalModel m) {
        models.put(m.hash(), m);
    }

    public void remove(ModelHash h) {
        models.remove(h);
    }

    public LocalModel get(ModelHash h) {
        return models.get(h);
    }

    public Collection<LocalModel> all() {
        return List.copyOf(models.values());
    }

    /**
     * Adds every model directory under {@code cacheDir} (a directory holding manifest.json); returns how many.
     * Unreadable entries are skipped: a cache may hold leftovers of other versions.
     */
    public int addCacheDir(Path cacheDir) throws IOException {
        if (!Files.isDirectory(cacheDir)) {
            return 0;
        }
        int n = 0;
        try (Stream<Path> dirs = Files.list(cacheDir)) {
            for (Path d : dirs.filter(p -> Files.isRegularFile(p.resolve(Manifest.FILE_NAME))).toList()) {
                try {
                    add(LocalModel.openServing(d, null));
                    n++;
                } catch (IOException | RuntimeException e) {
                    // not a model directory this build can read; leave it alone
                }
            }
        }
        return n;
    }
}
