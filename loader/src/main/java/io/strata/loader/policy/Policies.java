package io.strata.loader.policy;

import java.util.List;
import java.util.Locale;

/** Policy names as the CLI and options spell them. */
public final class Policies {
    public static final List<String> NAMES = List.of("lru", "lfu", "tinylfu", "moe");

    private Policies() {
    }

    /** A policy for a byte budget: W-TinyLFU's shadow cache weighs entries by their size in KiB. */
    public static EvictionPolicy create(String name, long capacityBytes,
                                        java.util.function.ToLongFunction<io.strata.core.model.ExpertId> bytesOf) {
        if (name.equalsIgnoreCase("tinylfu") || name.equalsIgnoreCase("w-tinylfu")) {
            return new TinyLfuPolicy(capacityBytes, bytesOf);
        }
        return create(name, 1);
    }

    /** A fresh policy; {@code capacityEntries} sizes W-TinyLFU's shadow cache. */
    public static EvictionPolicy create(String name, long capacityEntries) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "lru" -> new LruPolicy();
            case "lfu" -> new LfuPolicy();
            case "tinylfu", "w-tinylfu" -> new TinyLfuPolicy(capacityEntries);
            case "moe" -> new ReuseDistancePolicy();
            default -> throw new IllegalArgumentException("unknown cache policy '" + name + "' (choose one of "
                    + String.join(", ", NAMES) + ")");
        };
    }
}
