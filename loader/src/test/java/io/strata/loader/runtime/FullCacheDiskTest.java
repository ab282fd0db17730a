package io.strata.loader.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.core.hash.Blake3;
import io.strata.core.manifest.Manifest;
import io.strata.core.manifest.ManifestCodec;
import io.strata.core.model.Layout;
import io.strata.core.model.Tier;
import io.strata.loader.cache.ExpertHandle;
import io.strata.loader.disk.DiskCache;
import io.strata.loader.testing.SmallTmpfs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The disk cache is optional: a full cache file system (a real tmpfs filled up) or a cache directory that cannot
 * be created must not fail the run; it degrades to no disk cache with one warning, and compute still gets the
 * manifest's bytes from the model.
 */
class FullCacheDiskTest {
    static final int EXPERTS = 4;

    @TempDir
    Path tmp;

    private static final class Warnings extends Handler implements AutoCloseable {
        final List<String> seen = new ArrayList<>();
        final List<Logger> loggers;

        Warnings(Class<?>... from) {
            loggers = java.util.Arrays.stream(from).map(c -> Logger.getLogger(c.getName())).toList();
            loggers.forEach(l -> l.addHandler(this));
        }

        @Override
        public synchronized void publish(LogRecord r) {
            if (r.getLevel().intValue() >= Level.WARNING.intValue()) {
                seen.add(r.getMessage());
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
            loggers.forEach(l -> l.removeHandler(this));
        }
    }

    private static void pageAll(ModelRuntime rt, Manifest man) {
        for (int e = 0; e < EXPERTS; e++) {
            try (ExpertHandle h = rt.expert(0, e)) {
                assertEquals(man.groups().get("expert.0." + e).hash(), Blake3.hashHex(h.bytes()));
            }
        }
    }

    @Test
    void aFullCacheFileSystemDegradesToNoDiskCacheWithOneWarning() throws Exception {
        TestModels.Model m = TestModels.mixtral(tmp, 1, EXPERTS, 64, 96, Layout.ROW, 1);
        Manifest man = ManifestCodec.read(m.converted());
        try (SmallTmpfs fs = SmallTmpfs.mount("512k");
             Warnings w = new Warnings(DiskCache.class, ModelRuntime.class)) {
            Path cache = fs.dir().resolve("cache");
            Files.createDirectories(cache.resolve("blobs"));
            fs.fill();
            RuntimeOptions o = RuntimeOptions.builder().cacheDir(cache).cacheLocal(true).hostBudget(64 << 20).prefetch(false).build();
            try (ModelRuntime rt = ModelRuntime.open(m.converted(), o)) {
                pageAll(rt, man);
                assertEquals(EXPERTS, rt.telemetry().tier(Tier.ORIGIN).hits(), "served from the model");
            }
            assertEquals(1, w.seen.size(), "one warning: " + w.seen);
            assertTrue(w.seen.getFirst().contains("No space left on device")
                    && w.seen.getFirst().contains("without caching on disk"), w.seen.getFirst());
            try (var left = Files.walk(cache)) {
                assertTrue(left.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no partial blob");
            }
        }
    }

    @Test
    void aCacheDirectoryThatCannotBeCreatedIsLeftOutWithOneWarning() throws Exception {
        TestModels.Model m = TestModels.mixtral(tmp, 1, EXPERTS, 64, 96, Layout.ROW, 1);
        Manifest man = ManifestCodec.read(m.converted());
        Path notADir = Files.writeString(tmp.resolve("cache-is-a-file"), "x");
        try (Warnings w = new Warnings(DiskCache.class, ModelRuntime.class);
             ModelRuntime rt = ModelRuntime.open(m.converted(), RuntimeOptions.builder().cacheDir(notADir)
                     .hostBudget(64 << 20).prefetch(false).build())) {
            pageAll(rt, man);
            assertEquals(1, w.seen.size(), "one warning: " + w.seen);
            assertTrue(w.seen.getFirst().contains(notADir.toString()) && w.seen.getFirst().contains("without it"),
                    w.seen.getFirst());
        }
    }
}
