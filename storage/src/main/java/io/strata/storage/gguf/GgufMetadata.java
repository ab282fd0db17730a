package io.strata.storage.gguf;

import io.strata.storage.safetensors.CheckpointException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.Set;

/**
 * The key/value metadata of a GGUF file, in file order, with typed getters whose errors name the file and the
 * key. Values are boxed as: every integer type as {@link Long} (UINT64 as its raw bits; {@link #integer} refuses
 * one above {@code Long.MAX_VALUE}), FLOAT32 as {@link Float}, FLOAT64 as {@link Double}, BOOL as
 * {@link Boolean}, STRING as {@link String}, ARRAY as {@link GgufArray}.
 */
public final class GgufMetadata {
    /** One key's value and its wire type. */
    public record Entry(GgufValueType type, Object value) {
    }

    private final String source;
    private final Map<String, Entry> entries;

    GgufMetadata(String source, LinkedHashMap<String, Entry> entries) {
        this.source = source;
        this.entries = Collections.unmodifiableMap(entries);
    }

    /** Keys in file order. */
    public Set<String> keys() {
        return entries.keySet();
    }

    public Map<String, Entry> entries() {
        return entries;
    }

    public boolean has(String key) {
        return entries.containsKey(key);
    }

    public Optional<Entry> entry(String key) {
        return Optional.ofNullable(entries.get(key));
    }

    /** The value of {@code key} as boxed above; the error names the key when it is absent. */
    public Object value(String key) {
        return require(key).value();
    }

    public String string(String key) {
        return optionalString(key).orElseThrow(() -> missing(key, "a string"));
    }

    public Optional<String> optionalString(String key) {
        Entry e = entries.get(key);
        if (e == null) {
            return Optional.empty();
        }
        if (e.type() != GgufValueType.STRING) {
            throw wrongType(key, e, "a string");
        }
        return Optional.of((String) e.value());
    }

    /** Any integer type, as a signed long. */
    public long integer(String key) {
        OptionalLong v = optionalInteger(key);
        if (v.isEmpty()) {
            throw missing(key, "an integer");
        }
        return v.getAsLong();
    }

    public OptionalLong optionalInteger(String key) {
        Entry e = entries.get(key);
        if (e == null) {
            return OptionalLong.empty();
        }
        if (!e.type().isInteger()) {
            throw wrongType(key, e, "an integer");
        }
        long v = (Long) e.value();
        if (e.type() == GgufValueType.UINT64 && v < 0) {
            throw new CheckpointException(source + ": metadata '" + key + "': UINT64 value "
                    + Long.toUnsignedString(v) + " is too large");
        }
        return OptionalLong.of(v);
    }

    /** A float type, or an integer read as a real number. */
    public double real(String key) {
        OptionalDouble v = optionalReal(key);
        if (v.isEmpty()) {
            throw missing(key, "a number");
        }
        return v.getAsDouble();
    }

    public OptionalDouble optionalReal(String key) {
        Entry e = entries.get(key);
        if (e == null) {
            return OptionalDouble.empty();
        }
        if (e.type().isReal()) {
            return OptionalDouble.of(((Number) e.value()).doubleValue());
        }
        if (e.type().isInteger()) {
            return OptionalDouble.of(optionalInteger(key).getAsLong());
        }
        throw wrongType(key, e, "a number");
    }

    public Optional<Boolean> optionalBool(String key) {
        Entry e = entries.get(key);
        if (e == null) {
            return Optional.empty();
        }
        if (e.type() != GgufValueType.BOOL) {
            throw wrongType(key, e, "a bool");
        }
        return Optional.of((Boolean) e.value());
    }

    public Optional<GgufArray> optionalArray(String key) {
        Entry e = entries.get(key);
        if (e == null) {
            return Optional.empty();
        }
        if (e.type() != GgufValueType.ARRAY) {
            throw wrongType(key, e, "an array");
        }
        return Optional.of((GgufArray) e.value());
    }

    public GgufArray array(String key) {
        return optionalArray(key).orElseThrow(() -> missing(key, "an array"));
    }

    private Entry require(String key) {
        Entry e = entries.get(key);
        if (e == null) {
            throw missing(key, "a value");
        }
        return e;
    }

    private CheckpointException missing(String key, String what) {
        return new CheckpointException(source + ": metadata key '" + key + "' is missing (expected " + what + ")");
    }

    private CheckpointException wrongType(String key, Entry e, String what) {
        return new CheckpointException(source + ": metadata '" + key + "' is " + e.type() + ", expected " + what);
    }
}
