package io.strata.loader.policy;

import io.strata.core.model.ExpertId;
import java.util.List;
import java.util.Locale;
import java.util.function.ToLongFunction;

/** Policy names as the CLI and options spell them, and the one to use when nobody says. */
public final class Policies {
    /** The default: beats the others on every real routing trace the project has (see TraceReplayTest). */
    public static final String DEFAULT = "next-visit";
    /** Canonical names, the default last. */
    public static final List<String> NAMES = List.of("lru", "lfu", "tinylfu", "reuse-distance", DEFAULT);

    private Policies() {
    }

    /** A policy for a byte budget: W-TinyLFU's shadow cache weighs entries by their size in KiB. */
    public static EvictionPolicy create(String name, long capacityBytes, ToLongFunction<ExpertId> bytesOf) {
        if (canonical(name).equals("tinylfu")) {
            return new TinyLfuPolicy(capacityBytes, bytesOf);
        }
        return create(name, 1);
    }

    /** A fresh policy; {@code capacityEntries} sizes W-TinyLFU's shadow cache. */
    public static EvictionPolicy create(String name, long capacityEntries) {
        return switch (canonical(name)) {
            case "lru" -> new LruPolicy();
            case "lfu" -> new LfuPolicy();
            case "tinylfu" -> new TinyLfuPolicy(capacityEntries);
            case "reuse-distance" -> new ReuseDistancePolicy();
            case DEFAULT -> new NextVisitPolicy();
            default -> throw new IllegalArgumentException("unknown cache policy '" + name + "' (choose one of "
                    + String.join(", ", NAMES) + ")");
        };
    }

    /**
     * The canonical name for {@code name}: case-insensitive, and the old spellings {@code w-tinylfu} and
     * {@code moe} (the reuse-distance policy's name until it stopped being the default) still work.
     */
    public static String canonical(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return switch (n) {
            case "w-tinylfu" -> "tinylfu";
            case "moe" -> "reuse-distance";
            default -> n;
        };
    }
}
