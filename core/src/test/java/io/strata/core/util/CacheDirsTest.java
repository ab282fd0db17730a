package io.strata.core.util;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CacheDirsTest {
    @Test
    void strataCacheThenXdgThenHomeThenTheAccountsHome() {
        assertEquals(Path.of("/s"), CacheDirs.root(Map.of("STRATA_CACHE", "/s", "XDG_CACHE_HOME", "/x",
                "HOME", "/h"), "/u"));
        assertEquals(Path.of("/x/strata"), CacheDirs.root(Map.of("XDG_CACHE_HOME", "/x", "HOME", "/h"), "/u"));
        assertEquals(Path.of("/h/.cache/strata"), CacheDirs.root(Map.of("HOME", "/h"), "/u"),
                "~ is $HOME, not the password database's home");
        assertEquals(Path.of("/u/.cache/strata"), CacheDirs.root(Map.of(), "/u"));
        assertEquals(Path.of("/u/.cache/strata"), CacheDirs.root(Map.of("HOME", " ", "STRATA_CACHE", ""), "/u"));
    }
}
