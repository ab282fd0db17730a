package io.strata.core.util;

import java.nio.file.Path;
import java.util.Map;

/** Where Strata keeps what persists across runs (disk cache, KV spill, the demo model). */
public final class CacheDirs {
    private CacheDirs() {
    }

    /** {@code $STRATA_CACHE}, else {@code $XDG_CACHE_HOME/strata}, else {@code ~/.cache/strata}. */
    public static Path root() {
        return root(System.getenv(), System.getProperty("user.home"));
    }

    /**
     * The same from a given environment. {@code ~} is {@code $HOME} when it is set, as a shell reads it; Java's
     * {@code user.home} comes from the password database and ignores {@code $HOME}, so a user who points
     * {@code HOME} elsewhere (a sandbox, a CI job, {@code HOME=/tmp/x strata ...}) would still find Strata
     * writing under the account's real home.
     */
    static Path root(Map<String, String> env, String userHome) {
        String strata = env.get("STRATA_CACHE");
        if (strata != null && !strata.isBlank()) {
            return Path.of(strata);
        }
        String xdg = env.get("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank()) {
            return Path.of(xdg).resolve("strata");
        }
        String home = env.get("HOME");
        return Path.of(home != null && !home.isBlank() ? home : userHome, ".cache", "strata");
    }
}
