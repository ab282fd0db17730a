package io.strata.core.util;

import java.nio.file.Path;

/** Where Strata keeps what persists across runs (disk cache, KV spill, the demo model). */
public final class CacheDirs {
    private CacheDirs() {
    }

    /** {@code $STRATA_CACHE}, else {@code $XDG_CACHE_HOME/strata}, else {@code ~/.cache/strata}. */
    public static Path root() {
        String strata = System.getenv("STRATA_CACHE");
        if (strata != null && !strata.isBlank()) {
            return Path.of(strata);
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("strata");
    }
}
