package io.strata.storage.gguf;

import java.util.List;

/**
 * A GGUF metadata array: its element type and values, boxed as {@link GgufMetadata} describes (nested arrays
 * are {@code GgufArray} again).
 */
public record GgufArray(GgufValueType elementType, List<Object> values) {
    public GgufArray {
        values = List.copyOf(values);
    }

    public int size() {
        return values.size();
    }
}
